MATCH (a:Account)
WHERE a.gen = $gen AND a.riskRun <> $run
WITH a LIMIT $batch
REMOVE a.riskScore, a.riskReasons, a.riskAlerts, a.riskRun
RETURN count(*) AS deleted
