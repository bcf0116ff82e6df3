UNWIND $rows AS row
MATCH (a:CustomerRecord {customer_id: row.customer_id, gen: $gen})
MATCH (b:CustomerRecord {customer_id: row.relative_id, gen: $gen})
CREATE (a)-[r:FAMILY {gen: $gen}]->(b)
SET r += row
RETURN count(*) AS written
