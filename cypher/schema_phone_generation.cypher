CREATE INDEX relgraph_phone_generation IF NOT EXISTS
FOR (n:Phone) ON (n.gen)
