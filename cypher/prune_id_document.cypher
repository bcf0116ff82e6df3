MATCH (n:IdDocument)
WHERE n.gen = $stale
WITH n LIMIT $batch
DETACH DELETE n
RETURN count(*) AS deleted
