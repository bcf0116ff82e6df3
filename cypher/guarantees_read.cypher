// One page as one record: the rows in seq order, each the values of $columns (the columns
// asked for, in order), so the client decodes lists of values, not a map per row.
MATCH ()-[r:GUARANTEES]->()
WHERE r.gen = $gen AND r.seq >= $from AND r.seq < $to
WITH r ORDER BY r.seq
RETURN collect([k IN $columns | r[k]]) AS rows
