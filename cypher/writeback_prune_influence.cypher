MATCH (p:Person)
WHERE p.gen = $gen AND p.influenceRun <> $run
WITH p LIMIT $batch
REMOVE p.influenceRank, p.directReferrals, p.cascadeSize, p.cascadeAum, p.pagerank, p.influenceRun
RETURN count(*) AS deleted
