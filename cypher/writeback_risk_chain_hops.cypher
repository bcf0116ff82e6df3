// A hop is found by its key (relgraph_involves_key), not by walking the INVOLVES between the
// alert and the account: a fan's hub is one account with hundreds of one alert's hops, so
// the walk was quadratic in the fan's size. Not a MERGE: MERGE cannot take a hint, and the
// first write-back after a load is planned while the statistics still say there are no
// INVOLVES (and no Alert in its indexes), where the walk, and the alerts' generation index,
// look as cheap as the seeks; the hints pin the three unique seeks. Rows are written by one
// writer; the constraint refuses a second hop with the same key.
UNWIND $rows AS row
MATCH (al:Alert {chain_id: row.chain_id, gen: $gen})
USING INDEX al:Alert(chain_id, gen)
MATCH (a:Account {account_id: row.from_account, gen: $gen})
USING INDEX a:Account(account_id, gen)
OPTIONAL MATCH (al)-[found:INVOLVES {chainId: row.chain_id, hop: row.hop, gen: $gen}]->(a)
USING INDEX found:INVOLVES(chainId, hop, gen)
FOREACH (new IN CASE WHEN found IS NULL THEN [row] ELSE [] END |
  CREATE (al)-[:INVOLVES {
    chainId: new.chain_id, hop: new.hop, gen: $gen,
    txId: new.tx_id, amount: new.amount, ts: new.ts, run: $run
  }]->(a))
SET found.txId = row.tx_id, found.amount = row.amount, found.ts = row.ts, found.run = $run
RETURN count(*) AS written
