CREATE INDEX relgraph_enterprise_rows IF NOT EXISTS
FOR (n:Enterprise) ON (n.gen, n.seq)
