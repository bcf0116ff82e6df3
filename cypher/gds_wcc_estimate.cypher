CALL gds.wcc.write.estimate($graph, {writeProperty: 'networkComponent'})
YIELD requiredMemory, bytesMax, heapPercentageMax
RETURN requiredMemory, bytesMax, heapPercentageMax
