CREATE CONSTRAINT relgraph_result_chunk_key IF NOT EXISTS
FOR (c:ResultChunk) REQUIRE (c.table, c.run, c.part) IS UNIQUE
