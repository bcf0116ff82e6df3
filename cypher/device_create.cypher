UNWIND $rows AS row
CREATE (n:Device {device_id: row.value, gen: $gen})
RETURN count(*) AS written, collect(elementId(n)) AS ids
