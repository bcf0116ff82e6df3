CREATE CONSTRAINT relgraph_state_key IF NOT EXISTS
FOR (s:RelgraphState) REQUIRE s.id IS UNIQUE
