CALL gds.wcc.write($graph, {writeProperty: 'networkComponent'})
YIELD componentCount, nodePropertiesWritten
RETURN componentCount, nodePropertiesWritten
