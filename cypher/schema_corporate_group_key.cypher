CREATE CONSTRAINT relgraph_corporate_group_key IF NOT EXISTS
FOR (n:CorporateGroup) REQUIRE (n.group_id, n.gen) IS UNIQUE
