UNWIND $rows AS row
CREATE (c:CustomerRecord {gen: $gen})
SET c += row
WITH c, row
OPTIONAL MATCH (p:Person {person_id: row.person_id, gen: $gen})
OPTIONAL MATCH (phone:Phone {value: row.phone_norm, gen: $gen})
OPTIONAL MATCH (email:Email {value: row.email_norm, gen: $gen})
OPTIONAL MATCH (address:Address {value: row.address_norm, gen: $gen})
OPTIONAL MATCH (document:IdDocument {value: row.id_number_norm, gen: $gen})
FOREACH (x IN CASE WHEN p IS NULL THEN [] ELSE [p] END | CREATE (c)-[:RECORD_OF]->(x))
FOREACH (x IN CASE WHEN phone IS NULL THEN [] ELSE [phone] END | CREATE (c)-[:HAS_PHONE]->(x))
FOREACH (x IN CASE WHEN email IS NULL THEN [] ELSE [email] END | CREATE (c)-[:HAS_EMAIL]->(x))
FOREACH (x IN CASE WHEN address IS NULL THEN [] ELSE [address] END |
  CREATE (c)-[:LIVES_AT]->(x))
FOREACH (x IN CASE WHEN document IS NULL THEN [] ELSE [document] END |
  CREATE (c)-[:HAS_ID_DOCUMENT]->(x))
RETURN count(*) AS written
