MATCH (s:RelgraphState {id: 'relgraph'})
RETURN s.gen AS gen, s.meta AS meta, s.tables AS tables, s.results AS results, s.pending AS pending,
       s.graphPending AS graph_pending
