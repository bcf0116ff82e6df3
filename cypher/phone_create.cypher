UNWIND $rows AS row
CREATE (:Phone {value: row.value, gen: $gen})
RETURN count(*) AS written
