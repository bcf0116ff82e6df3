CREATE CONSTRAINT relgraph_household_key IF NOT EXISTS
FOR (n:Household) REQUIRE (n.household_id, n.gen) IS UNIQUE
