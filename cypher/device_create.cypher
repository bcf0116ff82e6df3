UNWIND $rows AS row
CREATE (:Device {device_id: row.value, gen: $gen})
RETURN count(*) AS written
