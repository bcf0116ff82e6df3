CREATE INDEX relgraph_alert_generation IF NOT EXISTS
FOR (n:Alert) ON (n.gen)
