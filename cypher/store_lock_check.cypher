// Run IN the store lock's own transaction (store_lock) by a run that holds it, inside each of
// its write transactions just before that one commits: an operator may have ended the lock's
// transaction (TERMINATE TRANSACTION, as a waiting run's error advises for a hung holder) while
// this run was only paused, and its writes, transactions of their own, would not notice. This
// statement then fails (the transaction is gone) and the write is rolled back unpublished. In
// the lock's transaction its uncommitted node is seen (one index seek); no row: not held.
MATCH (l:RelgraphLock {id: 'store'})
RETURN l.id AS held
