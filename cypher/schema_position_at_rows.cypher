CREATE INDEX relgraph_position_at_rows IF NOT EXISTS
FOR ()-[r:POSITION_AT]-() ON (r.gen, r.seq)
