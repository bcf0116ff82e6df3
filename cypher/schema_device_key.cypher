CREATE CONSTRAINT relgraph_device_key IF NOT EXISTS
FOR (n:Device) REQUIRE (n.device_id, n.gen) IS UNIQUE
