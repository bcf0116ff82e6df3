UNWIND $rows AS row
MATCH (p:Person {person_id: row.person_id, gen: $gen})
SET p.influenceRank = row.rank,
    p.directReferrals = row.direct_referrals,
    p.cascadeSize = row.cascade_size,
    p.cascadeAum = row.cascade_aum,
    p.pagerank = row.pagerank,
    p.influenceRun = $run
RETURN count(*) AS written
