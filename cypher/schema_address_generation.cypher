CREATE INDEX relgraph_address_generation IF NOT EXISTS
FOR (n:Address) ON (n.gen)
