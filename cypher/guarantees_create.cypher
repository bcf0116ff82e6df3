UNWIND $rows AS row
OPTIONAL MATCH (guarantor_c:CustomerRecord {customer_id: row.guarantor_id, gen: $gen})
  WHERE row.guarantor_kind = 'customer'
OPTIONAL MATCH (guarantor_e:Enterprise {enterprise_id: row.guarantor_id, gen: $gen})
  WHERE row.guarantor_kind = 'enterprise'
OPTIONAL MATCH (borrower_c:CustomerRecord {customer_id: row.borrower_id, gen: $gen})
  WHERE row.borrower_kind = 'customer'
OPTIONAL MATCH (borrower_e:Enterprise {enterprise_id: row.borrower_id, gen: $gen})
  WHERE row.borrower_kind = 'enterprise'
WITH row, coalesce(guarantor_c, guarantor_e) AS guarantor, coalesce(borrower_c, borrower_e) AS borrower
WHERE guarantor IS NOT NULL AND borrower IS NOT NULL
CREATE (guarantor)-[r:GUARANTEES {gen: $gen}]->(borrower)
SET r += row
RETURN count(*) AS written
