CREATE CONSTRAINT relgraph_address_key IF NOT EXISTS
FOR (n:Address) REQUIRE (n.value, n.gen) IS UNIQUE
