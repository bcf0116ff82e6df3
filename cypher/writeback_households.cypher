UNWIND $rows AS row
MERGE (h:Household {household_id: row.household_id, gen: $gen})
SET h += row, h.run = $run
RETURN count(*) AS written
