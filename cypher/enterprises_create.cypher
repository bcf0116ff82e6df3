// Endpoints by the element ids the identifier batches returned, looked up before the CREATE
// (see customers_create).
UNWIND range(0, size($rows) - 1) AS i
OPTIONAL MATCH (phone:Phone) WHERE elementId(phone) = $phone[i]
OPTIONAL MATCH (address:Address) WHERE elementId(address) = $address[i]
CREATE (e:Enterprise {gen: $gen})
SET e += $rows[i]
FOREACH (x IN CASE WHEN phone IS NULL THEN [] ELSE [phone] END | CREATE (e)-[:HAS_PHONE]->(x))
FOREACH (x IN CASE WHEN address IS NULL THEN [] ELSE [address] END |
  CREATE (e)-[:LIVES_AT]->(x))
RETURN count(*) AS written, collect(elementId(e)) AS ids
