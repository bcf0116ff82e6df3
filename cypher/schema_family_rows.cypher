CREATE INDEX relgraph_family_rows IF NOT EXISTS
FOR ()-[r:FAMILY]-() ON (r.gen, r.seq)
