CREATE INDEX relgraph_uses_device_rows IF NOT EXISTS
FOR ()-[r:USES_DEVICE]-() ON (r.gen, r.seq)
