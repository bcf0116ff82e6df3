UNWIND $rows AS row
MATCH (p:Person {person_id: row.person_id, gen: $gen})
MERGE (h:Household {household_id: row.household_id, gen: $gen})
SET p.householdId = row.household_id
MERGE (p)-[m:MEMBER_OF]->(h)
SET m.run = $run
RETURN count(*) AS written
