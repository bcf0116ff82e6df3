CREATE CONSTRAINT relgraph_enterprise_key IF NOT EXISTS
FOR (n:Enterprise) REQUIRE (n.enterprise_id, n.gen) IS UNIQUE
