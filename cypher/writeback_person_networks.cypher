UNWIND $rows AS row
MATCH (p:Person {person_id: row.person_id, gen: $gen})
SET p.networkId = row.network_id
RETURN count(*) AS written
