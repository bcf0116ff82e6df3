UNWIND $rows AS row
MATCH (a:CustomerRecord {customer_id: row.referrer_id, gen: $gen})
MATCH (b:CustomerRecord {customer_id: row.referred_id, gen: $gen})
MERGE (a)-[r:REFERRED]->(b)
SET r += row, r.gen = $gen
RETURN count(*) AS written
