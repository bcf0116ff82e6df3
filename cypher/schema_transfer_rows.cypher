CREATE INDEX relgraph_transfer_rows IF NOT EXISTS
FOR ()-[r:TRANSFER]-() ON (r.gen, r.seq)
