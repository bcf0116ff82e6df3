// Endpoints by the element ids their node batches returned ($holder[i] and $target[i] beside
// $rows[i]): no unique-index seek, which in a write query also locks the index entry. A row
// whose endpoint is unknown (a null id) matches nothing and is counted missing.
UNWIND range(0, size($rows) - 1) AS i
MATCH (a:CustomerRecord|Enterprise) WHERE elementId(a) = $holder[i]
MATCH (b:Enterprise) WHERE elementId(b) = $target[i]
CREATE (a)-[r:SHAREHOLDER_OF {gen: $gen}]->(b)
SET r += $rows[i]
RETURN count(*) AS written
