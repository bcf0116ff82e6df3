CREATE INDEX relgraph_customer_record_generation IF NOT EXISTS
FOR (n:CustomerRecord) ON (n.gen)
