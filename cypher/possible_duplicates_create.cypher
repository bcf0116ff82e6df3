UNWIND $rows AS row
MATCH (a:CustomerRecord {customer_id: row.customer_a, gen: $gen})
MATCH (b:CustomerRecord {customer_id: row.customer_b, gen: $gen})
CREATE (a)-[r:POSSIBLE_DUPLICATE {gen: $gen}]->(b)
SET r += row
RETURN count(*) AS written
