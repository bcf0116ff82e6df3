MATCH (p:Person)
WHERE p.gen = $gen AND p.networkGroup IN $groups
OPTIONAL MATCH (p)-[l:LINKED]->(q:Person)
WHERE q.gen = $gen AND l.run = $run AND q.networkGroup = p.networkGroup
WITH p.networkGroup AS grp, collect({p: p, q: q, strength: l.strength}) AS rows, sum(l.strength) AS total
UNWIND rows AS row
WITH row.p AS p, row.q AS q, CASE WHEN row.q IS NULL THEN null ELSE {strength: row.strength / total} END AS props
WITH gds.graph.project($graph, p, q, {relationshipProperties: props}, {undirectedRelationshipTypes: ['*']}) AS g
RETURN g.graphName AS graphName, g.nodeCount AS nodeCount, g.relationshipCount AS relationshipCount
