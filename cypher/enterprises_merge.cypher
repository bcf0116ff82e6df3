UNWIND $rows AS row
MERGE (e:Enterprise {enterprise_id: row.enterprise_id, gen: $gen})
SET e += row
FOREACH (v IN CASE WHEN row.phone_norm IS NULL THEN [] ELSE [row.phone_norm] END |
  MERGE (phone:Phone {value: v, gen: $gen})
  MERGE (e)-[:HAS_PHONE]->(phone))
FOREACH (v IN CASE WHEN row.address_norm IS NULL THEN [] ELSE [row.address_norm] END |
  MERGE (address:Address {value: v, gen: $gen})
  MERGE (e)-[:LIVES_AT]->(address))
RETURN count(*) AS written
