MATCH ()-[r:FAMILY]->()
WHERE r.gen = $gen AND r.seq >= $from AND r.seq < $to
RETURN properties(r) AS row
ORDER BY r.seq
