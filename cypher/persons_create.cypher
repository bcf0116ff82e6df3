UNWIND $rows AS row
CREATE (p:Person {gen: $gen})
SET p += row
RETURN count(*) AS written
