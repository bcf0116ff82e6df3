CREATE INDEX relgraph_customer_record_rows IF NOT EXISTS
FOR (n:CustomerRecord) ON (n.gen, n.seq)
