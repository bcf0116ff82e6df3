CALL gds.leiden.write.estimate($graph, {writeProperty: 'networkCommunity', relationshipWeightProperty: 'strength', gamma: $gamma, randomSeed: $seed, concurrency: 1})
YIELD requiredMemory, bytesMax, heapPercentageMax
RETURN requiredMemory, bytesMax, heapPercentageMax
