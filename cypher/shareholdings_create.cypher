UNWIND $rows AS row
MATCH (target:Enterprise {enterprise_id: row.enterprise_id, gen: $gen})
OPTIONAL MATCH (holder_c:CustomerRecord {customer_id: row.holder_id, gen: $gen})
  WHERE row.holder_kind = 'customer'
OPTIONAL MATCH (holder_e:Enterprise {enterprise_id: row.holder_id, gen: $gen})
  WHERE row.holder_kind = 'enterprise'
WITH row, target, coalesce(holder_c, holder_e) AS holder
WHERE holder IS NOT NULL
CREATE (holder)-[r:SHAREHOLDER_OF {gen: $gen}]->(target)
SET r += row
RETURN count(*) AS written
