CREATE INDEX relgraph_guarantees_rows IF NOT EXISTS
FOR ()-[r:GUARANTEES]-() ON (r.gen, r.seq)
