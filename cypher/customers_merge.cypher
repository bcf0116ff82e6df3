UNWIND $rows AS row
MERGE (c:CustomerRecord {customer_id: row.customer_id, gen: $gen})
SET c += row
WITH c, row
OPTIONAL MATCH (p:Person {person_id: row.person_id, gen: $gen})
FOREACH (person IN CASE WHEN p IS NULL THEN [] ELSE [p] END |
  MERGE (c)-[:RECORD_OF]->(person))
FOREACH (v IN CASE WHEN row.phone_norm IS NULL THEN [] ELSE [row.phone_norm] END |
  MERGE (phone:Phone {value: v, gen: $gen})
  MERGE (c)-[:HAS_PHONE]->(phone))
FOREACH (v IN CASE WHEN row.email_norm IS NULL THEN [] ELSE [row.email_norm] END |
  MERGE (email:Email {value: v, gen: $gen})
  MERGE (c)-[:HAS_EMAIL]->(email))
FOREACH (v IN CASE WHEN row.address_norm IS NULL THEN [] ELSE [row.address_norm] END |
  MERGE (address:Address {value: v, gen: $gen})
  MERGE (c)-[:LIVES_AT]->(address))
FOREACH (v IN CASE WHEN row.id_number_norm IS NULL THEN [] ELSE [row.id_number_norm] END |
  MERGE (document:IdDocument {value: v, gen: $gen})
  MERGE (c)-[:HAS_ID_DOCUMENT]->(document))
RETURN count(*) AS written
