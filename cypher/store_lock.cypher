// Taken by a load, and by a run that writes results, in a transaction kept open until it is
// done and then rolled back, so the node is never committed. Under relgraph_lock_key a second
// writer's MERGE waits on the unique index entry this one holds. Two `analyze` runs at once
// wrote their chunks side by side and each pruned the other's (every result table was left
// incomplete, both runs said they had finished); two loads of the same data at once CREATEd
// the same generation twice (the second stopped on the uniqueness constraints, or deleted the
// first's generation as one a dead load had left); a load of the live data again reset and
// pruned the results a run was writing. Its transaction has no timeout (it holds the lock for a
// whole load); a waiting run bounds its own wait (store_lock_transactions, store_lock_give_up).
MERGE (l:RelgraphLock {id: 'store'})
RETURN l.id AS id
