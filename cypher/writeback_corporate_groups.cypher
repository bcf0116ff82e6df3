UNWIND $rows AS row
MERGE (g:CorporateGroup {group_id: row.group_id, gen: $gen})
SET g += row, g.run = $run
RETURN count(*) AS written
