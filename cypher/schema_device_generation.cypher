CREATE INDEX relgraph_device_generation IF NOT EXISTS
FOR (n:Device) ON (n.gen)
