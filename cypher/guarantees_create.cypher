// The other kind's lookup is on null, which seeks nothing: a unique-index seek that finds
// nothing locks the entry exclusively (as for a MERGE), and parallel batches deadlocked on it.
UNWIND $rows AS row
OPTIONAL MATCH (guarantor_c:CustomerRecord {customer_id: CASE row.guarantor_kind WHEN 'customer' THEN row.guarantor_id END, gen: $gen})
OPTIONAL MATCH (guarantor_e:Enterprise {enterprise_id: CASE row.guarantor_kind WHEN 'enterprise' THEN row.guarantor_id END, gen: $gen})
OPTIONAL MATCH (borrower_c:CustomerRecord {customer_id: CASE row.borrower_kind WHEN 'customer' THEN row.borrower_id END, gen: $gen})
OPTIONAL MATCH (borrower_e:Enterprise {enterprise_id: CASE row.borrower_kind WHEN 'enterprise' THEN row.borrower_id END, gen: $gen})
WITH row, coalesce(guarantor_c, guarantor_e) AS guarantor, coalesce(borrower_c, borrower_e) AS borrower
WHERE guarantor IS NOT NULL AND borrower IS NOT NULL
CREATE (guarantor)-[r:GUARANTEES {gen: $gen}]->(borrower)
SET r += row
RETURN count(*) AS written
