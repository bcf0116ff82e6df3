CREATE INDEX relgraph_person_network IF NOT EXISTS
FOR (n:Person) ON (n.networkId)
