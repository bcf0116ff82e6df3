// Endpoints by the element ids their node batches returned ($guarantor[i] and $borrower[i] beside
// $rows[i]): no unique-index seek, which in a write query also locks the index entry. A row
// whose endpoint is unknown (a null id) matches nothing and is counted missing.
UNWIND range(0, size($rows) - 1) AS i
MATCH (a:CustomerRecord|Enterprise) WHERE elementId(a) = $guarantor[i]
MATCH (b:CustomerRecord|Enterprise) WHERE elementId(b) = $borrower[i]
CREATE (a)-[r:GUARANTEES {gen: $gen}]->(b)
SET r += $rows[i]
RETURN count(*) AS written
