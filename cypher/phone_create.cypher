UNWIND $rows AS row
CREATE (n:Phone {value: row.value, gen: $gen})
RETURN count(*) AS written, collect(elementId(n)) AS ids
