UNWIND $rows AS row
CREATE (e:Enterprise {gen: $gen})
SET e += row
WITH e, row
OPTIONAL MATCH (phone:Phone {value: row.phone_norm, gen: $gen})
OPTIONAL MATCH (address:Address {value: row.address_norm, gen: $gen})
FOREACH (x IN CASE WHEN phone IS NULL THEN [] ELSE [phone] END | CREATE (e)-[:HAS_PHONE]->(x))
FOREACH (x IN CASE WHEN address IS NULL THEN [] ELSE [address] END |
  CREATE (e)-[:LIVES_AT]->(x))
RETURN count(*) AS written
