UNWIND $rows AS row
MATCH (c:CustomerRecord {customer_id: row.customer_id, gen: $gen})
MATCH (e:Enterprise {enterprise_id: row.enterprise_id, gen: $gen})
CREATE (c)-[r:POSITION_AT {gen: $gen}]->(e)
SET r += row
RETURN count(*) AS written
