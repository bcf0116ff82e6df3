CREATE INDEX relgraph_shareholder_of_rows IF NOT EXISTS
FOR ()-[r:SHAREHOLDER_OF]-() ON (r.gen, r.seq)
