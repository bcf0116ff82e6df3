CREATE INDEX relgraph_enterprise_generation IF NOT EXISTS
FOR (n:Enterprise) ON (n.gen)
