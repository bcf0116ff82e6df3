UNWIND $rows AS row
CREATE (a:Account {gen: $gen})
SET a += row
WITH a, row
OPTIONAL MATCH (holder_c:CustomerRecord {customer_id: row.holder_id, gen: $gen})
  WHERE row.holder_kind = 'customer'
OPTIONAL MATCH (holder_e:Enterprise {enterprise_id: row.holder_id, gen: $gen})
  WHERE row.holder_kind = 'enterprise'
WITH a, coalesce(holder_c, holder_e) AS holder
FOREACH (h IN CASE WHEN holder IS NULL THEN [] ELSE [holder] END |
  CREATE (h)-[:HOLDS]->(a))
RETURN count(*) AS written
