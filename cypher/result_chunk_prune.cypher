MATCH (c:ResultChunk)
WHERE NOT c.table + '/' + c.run IN $keep
WITH c LIMIT $batch
DELETE c
RETURN count(*) AS deleted
