UNWIND $rows AS row
MATCH (c:CustomerRecord {customer_id: row.customer_id, gen: $gen})
MERGE (d:Device {device_id: row.device_id, gen: $gen})
MERGE (c)-[r:USES_DEVICE]->(d)
SET r += row, r.gen = $gen
RETURN count(*) AS written
