// Taken by a run that writes results, in a transaction kept open until its write-back is done
// and then rolled back, so the node is never committed. Under relgraph_lock_key a second run's
// MERGE waits on the unique index entry this one holds. Two `analyze` runs at once wrote their
// chunks side by side and each pruned the other's (every result table was left incomplete,
// both runs said they had finished), and either write-back's prune (of what its run did not
// mark) could remove what the other had just written.
MERGE (l:RelgraphLock {id: 'results'})
RETURN l.id AS id
