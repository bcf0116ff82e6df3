UNWIND $rows AS row
CREATE (k:Contact {gen: $gen})
SET k += row
WITH k, row
OPTIONAL MATCH (party_c:CustomerRecord {customer_id: row.party_id, gen: $gen})
  WHERE row.party_kind = 'customer'
OPTIONAL MATCH (party_e:Enterprise {enterprise_id: row.party_id, gen: $gen})
  WHERE row.party_kind = 'enterprise'
WITH k, coalesce(party_c, party_e) AS party
FOREACH (p IN CASE WHEN party IS NULL THEN [] ELSE [party] END |
  CREATE (k)-[:CONTACTED]->(p))
RETURN count(*) AS written
