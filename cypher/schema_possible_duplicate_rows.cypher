CREATE INDEX relgraph_possible_duplicate_rows IF NOT EXISTS
FOR ()-[r:POSSIBLE_DUPLICATE]-() ON (r.gen, r.seq)
