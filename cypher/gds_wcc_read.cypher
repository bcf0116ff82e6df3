MATCH (p:Person)
WHERE p.gen = $gen
RETURN p.person_id AS node, p.networkComponent AS value
