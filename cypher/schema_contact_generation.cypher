CREATE INDEX relgraph_contact_generation IF NOT EXISTS
FOR (n:Contact) ON (n.gen)
