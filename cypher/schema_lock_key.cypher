// One (:RelgraphLock) per name: a second run's MERGE of the same lock then waits on the index
// entry the first run's open transaction holds (results_lock), instead of creating another.
CREATE CONSTRAINT relgraph_lock_key IF NOT EXISTS
FOR (l:RelgraphLock) REQUIRE l.id IS UNIQUE
