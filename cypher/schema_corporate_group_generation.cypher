CREATE INDEX relgraph_corporate_group_generation IF NOT EXISTS
FOR (n:CorporateGroup) ON (n.gen)
