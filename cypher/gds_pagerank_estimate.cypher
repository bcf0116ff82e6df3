CALL gds.pageRank.write.estimate($graph, {writeProperty: 'referralPagerank', dampingFactor: $damping, maxIterations: $max_iterations, tolerance: $tolerance})
YIELD requiredMemory, bytesMax, heapPercentageMax
RETURN requiredMemory, bytesMax, heapPercentageMax
