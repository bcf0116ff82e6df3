// A run that waited RELGRAPH_NEO4J_LOCK_WAIT for store_lock ends its own waiting transaction
// ($ids is that one only, found by its token): the blocked MERGE then fails and the run stops
// without having written. The holder's transaction, which has no timeout, is never ended here.
TERMINATE TRANSACTIONS $ids
YIELD transactionId, message
RETURN transactionId, message
