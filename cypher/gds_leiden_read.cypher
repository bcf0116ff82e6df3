MATCH (p:Person)
WHERE p.gen = $gen AND p.networkGroup IN $groups
RETURN p.person_id AS node, p.networkCommunity AS value
