MERGE (s:RelgraphState {id: 'relgraph'})
// The generation this one replaces becomes pending before it is deleted: a load stopped
// between this commit and the deletes leaves it named, for the next load to delete.
WITH s, [g IN coalesce(s.pending, []) + CASE WHEN s.gen IS NULL OR s.gen = $gen THEN [] ELSE [s.gen] END
         WHERE g <> $gen] AS pending
SET s.gen = $gen,
    s.meta = $meta,
    s.tables = $tables,
    s.results = '{}',
    s.pending = pending,
    s.loadedAt = datetime()
// No results yet for this generation, so none that could be half written back.
REMOVE s.graphPending
RETURN s.gen AS gen
