package ruleset

// Subset exposes subset to the tests.
var Subset = subset
