// An enterprise's value as analyze computed it (analytics/value.py: the figures GraphQL's
// Enterprise serves) beside, not over, its loaded deposits and loans: the value reads those
// (an enterprise without account data takes its row), so overwriting them would feed a
// second analyze its own output.
UNWIND $rows AS row
MATCH (e:Enterprise {enterprise_id: row.party_id, gen: $gen})
SET e.valueAum = row.aum,
    e.valueDeposits = row.deposits,
    e.valueLoans = row.loans,
    e.valueSource = row.value_source
RETURN count(*) AS written
