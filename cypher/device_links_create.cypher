UNWIND $rows AS row
MATCH (c:CustomerRecord {customer_id: row.customer_id, gen: $gen})
MATCH (d:Device {device_id: row.device_id, gen: $gen})
CREATE (c)-[r:USES_DEVICE {gen: $gen}]->(d)
SET r += row
RETURN count(*) AS written
