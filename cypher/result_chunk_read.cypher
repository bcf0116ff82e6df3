MATCH (c:ResultChunk {table: $table, run: $run})
RETURN c.part AS part, c.parts AS parts, c.data AS data
ORDER BY c.part
