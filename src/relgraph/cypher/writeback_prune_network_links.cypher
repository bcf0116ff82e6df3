MATCH ()-[r:LINKED]->()
WHERE r.run <> $run
WITH r LIMIT $batch
DELETE r
RETURN count(*) AS deleted
