UNWIND $rows AS row
MATCH (a:Account {account_id: row.account_id, gen: $gen})
SET a.riskScore = row.score, a.riskReasons = row.reasons, a.riskAlerts = row.alerts,
    a.riskRun = $run
RETURN count(*) AS written
