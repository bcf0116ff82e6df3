// The other kind's lookup is on null, which seeks nothing: a unique-index seek that finds
// nothing locks the entry exclusively (as for a MERGE), and parallel batches deadlocked on it.
UNWIND $rows AS row
CREATE (k:Contact {gen: $gen})
SET k += row
WITH k, row
OPTIONAL MATCH (party_c:CustomerRecord {customer_id: CASE row.party_kind WHEN 'customer' THEN row.party_id END, gen: $gen})
OPTIONAL MATCH (party_e:Enterprise {enterprise_id: CASE row.party_kind WHEN 'enterprise' THEN row.party_id END, gen: $gen})
WITH k, coalesce(party_c, party_e) AS party
FOREACH (p IN CASE WHEN party IS NULL THEN [] ELSE [party] END |
  CREATE (k)-[:CONTACTED]->(p))
RETURN count(*) AS written
