CREATE INDEX relgraph_contact_rows IF NOT EXISTS
FOR (n:Contact) ON (n.gen, n.seq)
