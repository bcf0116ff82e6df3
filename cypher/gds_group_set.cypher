UNWIND $rows AS row
MATCH (p:Person {person_id: row.person_id, gen: $gen})
SET p.networkGroup = row.group
RETURN count(*) AS written
