package casework

import (
	"context"
	"errors"
	"fmt"

	"github.com/mamori-soc/mamori/store"
)

// Import stores a case exported from another tool or another Mamori (a
// historical case, so that past months' SLA ledgers can be built) and
// returns it with its version. Its ID, Timestamp, Timeline, Comments and
// Audit are kept as given: it needs an ID, an opening time and a timeline
// that starts with a "created" entry, and it must be valid (Validate).
// Import adds one audit entry, the case "imported" now by actor, and sets
// UpdatedAt. A case with that id exists already: nothing is written and
// the error wraps ErrConflict.
func (c *Cases) Import(ctx context.Context, actor string, cs Case) (Case, store.Version, error) {
	switch {
	case cs.ID == "":
		return Case{}, store.Version{}, fmt.Errorf("%w: an imported case needs its id", ErrInvalid)
	case cs.Timestamp.IsZero():
		return Case{}, store.Version{}, fmt.Errorf("%w: imported case %s needs its opening time (@timestamp)", ErrInvalid, cs.ID)
	case len(cs.Timeline) == 0 || cs.Timeline[0].Kind != "created":
		return Case{}, store.Version{}, fmt.Errorf("%w: imported case %s needs a timeline that starts with its \"created\" entry", ErrInvalid, cs.ID)
	}
	if err := cs.Validate(); err != nil {
		return Case{}, store.Version{}, fmt.Errorf("case %s: %w", cs.ID, err)
	}
	now := c.now().UTC()
	cs = clone(cs)
	cs.Audit = append(cs.Audit, Change{At: now, Actor: actor, Field: "case", After: "imported"})
	cs.UpdatedAt = now
	v, err := c.put(ctx, &cs, store.Version{})
	if errors.Is(err, store.ErrConflict) {
		return Case{}, store.Version{}, fmt.Errorf("casework: case %s exists already: %w", cs.ID, ErrConflict)
	}
	if err != nil {
		return Case{}, store.Version{}, err
	}
	return cs, v, nil
}
