CREATE INDEX relgraph_id_document_generation IF NOT EXISTS
FOR (n:IdDocument) ON (n.gen)
