MERGE (s:RelgraphState {id: 'relgraph'})
SET s.pending = [g IN coalesce(s.pending, []) WHERE g <> $gen] + [$gen]
RETURN s.gen AS gen, s.pending AS pending
