CALL gds.leiden.write($graph, {writeProperty: 'networkCommunity', relationshipWeightProperty: 'strength', gamma: $gamma, randomSeed: $seed, concurrency: 1})
YIELD communityCount, nodePropertiesWritten
RETURN communityCount, nodePropertiesWritten
