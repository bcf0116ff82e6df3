UNWIND $rows AS row
MATCH (a:Account {account_id: row.from_account, gen: $gen})
MATCH (b:Account {account_id: row.to_account, gen: $gen})
CREATE (a)-[r:TRANSFER {gen: $gen}]->(b)
SET r += row
RETURN count(*) AS written
