CREATE CONSTRAINT relgraph_customer_record_key IF NOT EXISTS
FOR (n:CustomerRecord) REQUIRE (n.customer_id, n.gen) IS UNIQUE
