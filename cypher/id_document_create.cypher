UNWIND $rows AS row
CREATE (:IdDocument {value: row.value, gen: $gen})
RETURN count(*) AS written
