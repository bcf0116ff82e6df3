CREATE INDEX relgraph_account_generation IF NOT EXISTS
FOR (n:Account) ON (n.gen)
