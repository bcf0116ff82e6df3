// Every generation that has elements, by each label's generation index: a load deletes
// those the state does not name live (a load an earlier release stopped after its commit
// left the one it replaced unnamed).
MATCH (n:Alert) WHERE n.gen IS NOT NULL RETURN DISTINCT n.gen AS gen
UNION
MATCH (n:Household) WHERE n.gen IS NOT NULL RETURN DISTINCT n.gen AS gen
UNION
MATCH (n:CorporateGroup) WHERE n.gen IS NOT NULL RETURN DISTINCT n.gen AS gen
UNION
MATCH (n:Contact) WHERE n.gen IS NOT NULL RETURN DISTINCT n.gen AS gen
UNION
MATCH (n:Account) WHERE n.gen IS NOT NULL RETURN DISTINCT n.gen AS gen
UNION
MATCH (n:CustomerRecord) WHERE n.gen IS NOT NULL RETURN DISTINCT n.gen AS gen
UNION
MATCH (n:Person) WHERE n.gen IS NOT NULL RETURN DISTINCT n.gen AS gen
UNION
MATCH (n:Enterprise) WHERE n.gen IS NOT NULL RETURN DISTINCT n.gen AS gen
UNION
MATCH (n:Device) WHERE n.gen IS NOT NULL RETURN DISTINCT n.gen AS gen
UNION
MATCH (n:Phone) WHERE n.gen IS NOT NULL RETURN DISTINCT n.gen AS gen
UNION
MATCH (n:Email) WHERE n.gen IS NOT NULL RETURN DISTINCT n.gen AS gen
UNION
MATCH (n:Address) WHERE n.gen IS NOT NULL RETURN DISTINCT n.gen AS gen
UNION
MATCH (n:IdDocument) WHERE n.gen IS NOT NULL RETURN DISTINCT n.gen AS gen
