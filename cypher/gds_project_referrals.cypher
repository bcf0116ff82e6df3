MATCH (p:Person)
WHERE p.gen = $gen
OPTIONAL MATCH (p)<-[:RECORD_OF]-(:CustomerRecord)<-[:REFERRED]-(:CustomerRecord)-[:RECORD_OF]->(q:Person)
WITH DISTINCT p, q
WITH gds.graph.project($graph, p, q) AS g
RETURN g.graphName AS graphName, g.nodeCount AS nodeCount, g.relationshipCount AS relationshipCount
