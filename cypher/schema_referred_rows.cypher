CREATE INDEX relgraph_referred_rows IF NOT EXISTS
FOR ()-[r:REFERRED]-() ON (r.gen, r.seq)
