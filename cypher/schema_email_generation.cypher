CREATE INDEX relgraph_email_generation IF NOT EXISTS
FOR (n:Email) ON (n.gen)
