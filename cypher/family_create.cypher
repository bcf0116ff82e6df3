// Endpoints by the element ids their node batches returned ($a[i] and $b[i] beside
// $rows[i]): no unique-index seek, which in a write query also locks the index entry. A row
// whose endpoint is unknown (a null id) matches nothing and is counted missing.
UNWIND range(0, size($rows) - 1) AS i
MATCH (a:CustomerRecord) WHERE elementId(a) = $a[i]
MATCH (b:CustomerRecord) WHERE elementId(b) = $b[i]
CREATE (a)-[r:FAMILY {gen: $gen}]->(b)
SET r += $rows[i]
RETURN count(*) AS written
