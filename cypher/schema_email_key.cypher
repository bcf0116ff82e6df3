CREATE CONSTRAINT relgraph_email_key IF NOT EXISTS
FOR (n:Email) REQUIRE (n.value, n.gen) IS UNIQUE
