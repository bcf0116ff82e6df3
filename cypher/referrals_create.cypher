UNWIND $rows AS row
MATCH (a:CustomerRecord {customer_id: row.referrer_id, gen: $gen})
MATCH (b:CustomerRecord {customer_id: row.referred_id, gen: $gen})
CREATE (a)-[r:REFERRED {gen: $gen}]->(b)
SET r += row
RETURN count(*) AS written
