UNWIND $rows AS row
MERGE (p:Person {person_id: row.person_id, gen: $gen})
SET p += row
RETURN count(*) AS written
