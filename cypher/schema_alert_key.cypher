CREATE CONSTRAINT relgraph_alert_key IF NOT EXISTS
FOR (n:Alert) REQUIRE (n.chain_id, n.gen) IS UNIQUE
