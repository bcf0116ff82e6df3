MATCH (p:Person)
WHERE p.gen = $gen
OPTIONAL MATCH (p)-[l:LINKED]->(q:Person)
WHERE q.gen = $gen AND l.run = $run
WITH gds.graph.project($graph, p, q, {relationshipProperties: l {.strength}}, {undirectedRelationshipTypes: ['*']}) AS g
RETURN g.graphName AS graphName, g.nodeCount AS nodeCount, g.relationshipCount AS relationshipCount
