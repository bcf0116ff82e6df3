// A hop is (chain, hop number, generation): the write-back finds a hop by this index rather
// than by walking every INVOLVES between the alert and the account, which for a fan's hub
// (one account, hundreds of one alert's hops) is quadratic in the fan's size.
CREATE CONSTRAINT relgraph_involves_key IF NOT EXISTS
FOR ()-[r:INVOLVES]-() REQUIRE (r.chainId, r.hop, r.gen) IS UNIQUE
