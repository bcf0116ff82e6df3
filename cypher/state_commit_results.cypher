MATCH (s:RelgraphState {id: 'relgraph'})
WHERE s.gen = $gen
// The graph's properties are this run's only once its write-back finishes (state_written_back).
SET s.results = $results, s.resultsRun = $run, s.analysedAt = datetime(), s.graphPending = $run
RETURN s.results AS results
