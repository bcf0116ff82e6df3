MATCH (s:RelgraphState {id: 'relgraph'})
WHERE s.gen = $gen AND s.graphPending = $run
REMOVE s.graphPending
SET s.graphRun = $run, s.writtenBackAt = datetime()
RETURN s.graphRun AS graph_run
