MATCH (n:Person)
WHERE n.gen = $gen AND n.seq >= $from AND n.seq < $to
RETURN properties(n) AS row
ORDER BY n.seq
