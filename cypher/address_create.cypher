UNWIND $rows AS row
CREATE (n:Address {value: row.value, gen: $gen})
RETURN count(*) AS written, collect(elementId(n)) AS ids
