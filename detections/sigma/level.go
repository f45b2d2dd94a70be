package sigma

// Level is a rule's severity level.
type Level uint8

// Sigma levels, in increasing severity. LevelNone is a rule without one.
const (
	LevelNone Level = iota
	LevelInformational
	LevelLow
	LevelMedium
	LevelHigh
	LevelCritical
)

var levelNames = [...]string{"", "informational", "low", "medium", "high", "critical"}

// String returns the Sigma name of the level ("" for LevelNone).
func (l Level) String() string {
	if int(l) < len(levelNames) {
		return levelNames[l]
	}
	return "Level(?)"
}

// parseLevel returns the level with that Sigma name.
func parseLevel(s string) (Level, bool) {
	for i, n := range levelNames {
		if n == s {
			return Level(i), true
		}
	}
	return LevelNone, false
}
