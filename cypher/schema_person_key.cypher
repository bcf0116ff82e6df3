CREATE CONSTRAINT relgraph_person_key IF NOT EXISTS
FOR (n:Person) REQUIRE (n.person_id, n.gen) IS UNIQUE
