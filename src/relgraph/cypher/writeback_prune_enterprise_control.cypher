MATCH ()-[r:IN_GROUP]->()
WHERE r.run <> $run
WITH r LIMIT $batch
DELETE r
RETURN count(*) AS deleted
