// For a run waiting on store_lock: the database's transactions this user may see (every user
// sees their own), with the metadata relgraph gives its own (app, operation, statement, and a
// waiting hold's token). A blocked transaction's status names those it waits for
// ("Blocked by: [neo4j-transaction-7]"): there the waiting run finds the lock's holder.
SHOW TRANSACTIONS
YIELD transactionId, database, metaData, clientAddress, elapsedTime, status
WHERE database = $database
RETURN transactionId, metaData, clientAddress, elapsedTime, status
