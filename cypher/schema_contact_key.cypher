CREATE CONSTRAINT relgraph_contact_key IF NOT EXISTS
FOR (n:Contact) REQUIRE (n.contact_id, n.gen) IS UNIQUE
