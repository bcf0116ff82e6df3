MATCH (n:CustomerRecord)
WHERE n.gen = $stale
WITH n LIMIT $batch
DETACH DELETE n
RETURN count(*) AS deleted
