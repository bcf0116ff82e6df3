UNWIND $rows AS row
MATCH (e:Enterprise {enterprise_id: row.enterprise_id, gen: $gen})
SET e.groupId = row.group_id,
    e.controllerId = row.controller_id,
    e.controllerShare = row.controller_share,
    e.ultimateControllerId = row.ultimate_controller_id
WITH e, row
// The hint pins the group's unique seek: the first write-back after a load plans this while
// the index statistics of the groups just written still say "empty", and the planner then
// scanned every group for each row.
OPTIONAL MATCH (g:CorporateGroup {group_id: row.group_id, gen: $gen})
USING INDEX g:CorporateGroup(group_id, gen)
FOREACH (grp IN CASE WHEN g IS NULL THEN [] ELSE [g] END |
  MERGE (e)-[m:IN_GROUP]->(grp)
  SET m.run = $run)
RETURN count(*) AS written
