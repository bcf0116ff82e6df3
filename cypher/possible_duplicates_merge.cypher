UNWIND $rows AS row
MATCH (a:CustomerRecord {customer_id: row.customer_a, gen: $gen})
MATCH (b:CustomerRecord {customer_id: row.customer_b, gen: $gen})
MERGE (a)-[r:POSSIBLE_DUPLICATE]->(b)
SET r += row, r.gen = $gen
RETURN count(*) AS written
