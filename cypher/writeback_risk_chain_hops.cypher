UNWIND $rows AS row
MATCH (al:Alert {chain_id: row.chain_id, gen: $gen})
MATCH (a:Account {account_id: row.from_account, gen: $gen})
MERGE (al)-[i:INVOLVES {hop: row.hop}]->(a)
SET i.txId = row.tx_id, i.amount = row.amount, i.ts = row.ts, i.run = $run
RETURN count(*) AS written
