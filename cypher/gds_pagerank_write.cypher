CALL gds.pageRank.write($graph, {writeProperty: 'referralPagerank', dampingFactor: $damping, maxIterations: $max_iterations, tolerance: $tolerance})
YIELD ranIterations, nodePropertiesWritten
RETURN ranIterations, nodePropertiesWritten
