UNWIND $rows AS row
CREATE (n:Email {value: row.value, gen: $gen})
RETURN count(*) AS written, collect(elementId(n)) AS ids
