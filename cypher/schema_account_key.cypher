CREATE CONSTRAINT relgraph_account_key IF NOT EXISTS
FOR (n:Account) REQUIRE (n.account_id, n.gen) IS UNIQUE
