MATCH (n:Enterprise)-[r:IN_GROUP]->()
WHERE n.gen = $gen AND r.run <> $run
WITH r LIMIT $batch
DELETE r
RETURN count(*) AS deleted
