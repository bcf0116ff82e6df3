UNWIND $rows AS row
MATCH (a:Account {account_id: row.from_account, gen: $gen})
MATCH (b:Account {account_id: row.to_account, gen: $gen})
MERGE (a)-[r:TRANSFER {tx_id: row.tx_id}]->(b)
SET r += row, r.gen = $gen
RETURN count(*) AS written
