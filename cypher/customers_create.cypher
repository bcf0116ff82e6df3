// Endpoints by the element ids the earlier batches returned ($person[i] beside $rows[i]),
// looked up before the CREATE: no index seek (which in a write query locks its entry) and no
// Eager (lookups after `SET c += row` made the planner buffer every row first). A null id
// finds nothing, as a missing person or identifier did before.
UNWIND range(0, size($rows) - 1) AS i
OPTIONAL MATCH (p:Person) WHERE elementId(p) = $person[i]
OPTIONAL MATCH (phone:Phone) WHERE elementId(phone) = $phone[i]
OPTIONAL MATCH (email:Email) WHERE elementId(email) = $email[i]
OPTIONAL MATCH (address:Address) WHERE elementId(address) = $address[i]
OPTIONAL MATCH (document:IdDocument) WHERE elementId(document) = $document[i]
CREATE (c:CustomerRecord {gen: $gen})
SET c += $rows[i]
FOREACH (x IN CASE WHEN p IS NULL THEN [] ELSE [p] END | CREATE (c)-[:RECORD_OF]->(x))
FOREACH (x IN CASE WHEN phone IS NULL THEN [] ELSE [phone] END | CREATE (c)-[:HAS_PHONE]->(x))
FOREACH (x IN CASE WHEN email IS NULL THEN [] ELSE [email] END | CREATE (c)-[:HAS_EMAIL]->(x))
FOREACH (x IN CASE WHEN address IS NULL THEN [] ELSE [address] END |
  CREATE (c)-[:LIVES_AT]->(x))
FOREACH (x IN CASE WHEN document IS NULL THEN [] ELSE [document] END |
  CREATE (c)-[:HAS_ID_DOCUMENT]->(x))
RETURN count(*) AS written, collect(elementId(c)) AS ids
