// The element ids come back in row order (no sort, no Eager): later rows link by them.
UNWIND $rows AS row
CREATE (p:Person {gen: $gen})
SET p += row
RETURN count(*) AS written, collect(elementId(p)) AS ids
