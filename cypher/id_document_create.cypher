UNWIND $rows AS row
CREATE (n:IdDocument {value: row.value, gen: $gen})
RETURN count(*) AS written, collect(elementId(n)) AS ids
