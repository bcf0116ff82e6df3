CREATE INDEX relgraph_person_rows IF NOT EXISTS
FOR (n:Person) ON (n.gen, n.seq)
