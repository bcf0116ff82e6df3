UNWIND $rows AS row
MATCH (c:CustomerRecord {customer_id: row.customer_id, gen: $gen})
MATCH (e:Enterprise {enterprise_id: row.enterprise_id, gen: $gen})
MERGE (c)-[r:POSITION_AT]->(e)
SET r += row, r.gen = $gen
RETURN count(*) AS written
