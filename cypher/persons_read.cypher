// One page as one record: the rows in seq order, each the values of $columns (the columns
// asked for, in order), so the client decodes lists of values, not a map per row.
MATCH (n:Person)
WHERE n.gen = $gen AND n.seq >= $from AND n.seq < $to
WITH n ORDER BY n.seq
RETURN collect([k IN $columns | n[k]]) AS rows
