UNWIND $rows AS row
MATCH (a:Person {person_id: row.person_a, gen: $gen})
MATCH (b:Person {person_id: row.person_b, gen: $gen})
MERGE (a)-[l:LINKED]->(b)
SET l.strength = row.strength, l.networkId = row.network_id, l.run = $run
RETURN count(*) AS written
