// Endpoints by the element ids their node batches returned ($customer[i] and $enterprise[i] beside
// $rows[i]): no unique-index seek, which in a write query also locks the index entry. A row
// whose endpoint is unknown (a null id) matches nothing and is counted missing.
UNWIND range(0, size($rows) - 1) AS i
MATCH (a:CustomerRecord) WHERE elementId(a) = $customer[i]
MATCH (b:Enterprise) WHERE elementId(b) = $enterprise[i]
CREATE (a)-[r:POSITION_AT {gen: $gen}]->(b)
SET r += $rows[i]
RETURN count(*) AS written
