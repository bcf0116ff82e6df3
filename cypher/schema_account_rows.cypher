CREATE INDEX relgraph_account_rows IF NOT EXISTS
FOR (n:Account) ON (n.gen, n.seq)
