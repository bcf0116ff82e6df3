CALL gds.pageRank.write($graph, {writeProperty: 'referralPagerank', dampingFactor: $damping, maxIterations: $max_iterations, tolerance: $tolerance})
YIELD ranIterations, didConverge, nodePropertiesWritten
RETURN ranIterations, didConverge, nodePropertiesWritten
