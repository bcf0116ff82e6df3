UNWIND $rows AS row
CREATE (:Email {value: row.value, gen: $gen})
RETURN count(*) AS written
