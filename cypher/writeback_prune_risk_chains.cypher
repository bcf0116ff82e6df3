MATCH (n:Alert)
WHERE n.gen = $gen AND n.run <> $run
WITH n LIMIT $batch
DETACH DELETE n
RETURN count(*) AS deleted
