MATCH (s:RelgraphState {id: 'relgraph'})
SET s.pending = [g IN coalesce(s.pending, []) WHERE NOT g IN $pruned]
RETURN s.pending AS pending
