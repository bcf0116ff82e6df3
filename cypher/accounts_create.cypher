// The holder (a customer record or an enterprise, whichever holder_kind names) by the element
// id its batch returned, looked up before the CREATE (see customers_create).
UNWIND range(0, size($rows) - 1) AS i
OPTIONAL MATCH (holder:CustomerRecord|Enterprise) WHERE elementId(holder) = $holder[i]
CREATE (a:Account {gen: $gen})
SET a += $rows[i]
FOREACH (h IN CASE WHEN holder IS NULL THEN [] ELSE [holder] END |
  CREATE (h)-[:HOLDS]->(a))
RETURN count(*) AS written, collect(elementId(a)) AS ids
