// The party (a customer record or an enterprise, whichever party_kind names) by the element id
// its batch returned, looked up before the CREATE (see customers_create).
UNWIND range(0, size($rows) - 1) AS i
OPTIONAL MATCH (party:CustomerRecord|Enterprise) WHERE elementId(party) = $party[i]
CREATE (k:Contact {gen: $gen})
SET k += $rows[i]
FOREACH (p IN CASE WHEN party IS NULL THEN [] ELSE [party] END |
  CREATE (k)-[:CONTACTED]->(p))
RETURN count(*) AS written
