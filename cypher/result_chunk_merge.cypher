MERGE (c:ResultChunk {table: $table, run: $run, part: $part})
SET c.data = $data, c.parts = $parts, c.gen = $gen
RETURN count(*) AS written
