// The other kind's lookup is on null, which seeks nothing: a unique-index seek that finds
// nothing locks the entry exclusively (as for a MERGE), and parallel batches deadlocked on it.
UNWIND $rows AS row
CREATE (a:Account {gen: $gen})
SET a += row
WITH a, row
OPTIONAL MATCH (holder_c:CustomerRecord {customer_id: CASE row.holder_kind WHEN 'customer' THEN row.holder_id END, gen: $gen})
OPTIONAL MATCH (holder_e:Enterprise {enterprise_id: CASE row.holder_kind WHEN 'enterprise' THEN row.holder_id END, gen: $gen})
WITH a, coalesce(holder_c, holder_e) AS holder
FOREACH (h IN CASE WHEN holder IS NULL THEN [] ELSE [holder] END |
  CREATE (h)-[:HOLDS]->(a))
RETURN count(*) AS written
