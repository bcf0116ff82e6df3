// One (:RelgraphLock) per name: a second writer's MERGE of the same lock then waits on the index
// entry the first one's open transaction holds (store_lock), instead of creating another.
CREATE CONSTRAINT relgraph_lock_key IF NOT EXISTS
FOR (l:RelgraphLock) REQUIRE l.id IS UNIQUE
