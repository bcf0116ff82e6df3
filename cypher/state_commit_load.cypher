MERGE (s:RelgraphState {id: 'relgraph'})
SET s.gen = $gen,
    s.meta = $meta,
    s.tables = $tables,
    s.results = '{}',
    s.pending = [g IN coalesce(s.pending, []) WHERE g <> $gen],
    s.loadedAt = datetime()
RETURN s.gen AS gen
