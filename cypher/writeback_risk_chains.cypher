UNWIND $rows AS row
MERGE (al:Alert {chain_id: row.chain_id, gen: $gen})
SET al += row, al.run = $run
RETURN count(*) AS written
