UNWIND $rows AS row
CREATE (:Address {value: row.value, gen: $gen})
RETURN count(*) AS written
