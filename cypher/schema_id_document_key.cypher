CREATE CONSTRAINT relgraph_id_document_key IF NOT EXISTS
FOR (n:IdDocument) REQUIRE (n.value, n.gen) IS UNIQUE
