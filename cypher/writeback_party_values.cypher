// A person's value as analyze computed it (one definition, analytics/value.py: the figures
// GraphQL's Person.aum serves) in place of the record summaries the load wrote.
UNWIND $rows AS row
MATCH (p:Person {person_id: row.party_id, gen: $gen})
SET p.aum = row.aum,
    p.deposits = row.deposits,
    p.loans = row.loans,
    p.valueSource = row.value_source
RETURN count(*) AS written
