UNWIND $rows AS row
MATCH (a:CustomerRecord {customer_id: row.customer_id, gen: $gen})
MATCH (b:CustomerRecord {customer_id: row.relative_id, gen: $gen})
MERGE (a)-[r:FAMILY]->(b)
SET r += row, r.gen = $gen
RETURN count(*) AS written
