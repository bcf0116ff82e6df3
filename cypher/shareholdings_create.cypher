// The other kind's lookup is on null, which seeks nothing: a unique-index seek that finds
// nothing locks the entry exclusively (as for a MERGE), and parallel batches deadlocked on it.
UNWIND $rows AS row
MATCH (target:Enterprise {enterprise_id: row.enterprise_id, gen: $gen})
OPTIONAL MATCH (holder_c:CustomerRecord {customer_id: CASE row.holder_kind WHEN 'customer' THEN row.holder_id END, gen: $gen})
OPTIONAL MATCH (holder_e:Enterprise {enterprise_id: CASE row.holder_kind WHEN 'enterprise' THEN row.holder_id END, gen: $gen})
WITH row, target, coalesce(holder_c, holder_e) AS holder
WHERE holder IS NOT NULL
CREATE (holder)-[r:SHAREHOLDER_OF {gen: $gen}]->(target)
SET r += row
RETURN count(*) AS written
