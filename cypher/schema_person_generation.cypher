CREATE INDEX relgraph_person_generation IF NOT EXISTS
FOR (n:Person) ON (n.gen)
