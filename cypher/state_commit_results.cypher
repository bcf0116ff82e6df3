MATCH (s:RelgraphState {id: 'relgraph'})
WHERE s.gen = $gen
SET s.results = $results, s.resultsRun = $run, s.analysedAt = datetime()
RETURN s.results AS results
