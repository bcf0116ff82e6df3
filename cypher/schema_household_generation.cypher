CREATE INDEX relgraph_household_generation IF NOT EXISTS
FOR (n:Household) ON (n.gen)
