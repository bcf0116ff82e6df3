CREATE CONSTRAINT relgraph_phone_key IF NOT EXISTS
FOR (n:Phone) REQUIRE (n.value, n.gen) IS UNIQUE
