package casework

import (
	"fmt"
	"time"
)

// Patch is what an update of a case may change, as PATCH
// /api/v1/cases/{id} and `mamori cases update` take it; absent (nil or
// empty) fields leave the case as it is.
type Patch struct {
	Status      *Status           `json:"status"`
	Priority    *Priority         `json:"priority"`
	Assignee    *string           `json:"assignee"`
	Title       *string           `json:"title"`
	Description *string           `json:"description"`
	Fields      map[string]string `json:"fields"` // set (empty value: remove)
	Comment     string            `json:"comment"`
	Links       []Link            `json:"links"` // added
	// Done marks checklist steps done, by index (from 0).
	Done []int `json:"done"`
	// Notification records one that went out by other means (a phone
	// call): it can stop the SLA clock it answers.
	Notification string `json:"notification"`
	// Survey rates a closed incident (100, 80, 60, 40 or 0).
	Survey *PatchSurvey `json:"survey"`
}

// PatchSurvey is the rating a Patch gives; who rates and when are the
// actor and time of the update.
type PatchSurvey struct {
	Score   int    `json:"score"`
	Comment string `json:"comment"`
}

// Apply makes the patch's changes to c as actor at now: it sets the
// fields given, adds the comment, links and the notification's timeline
// entry, marks the checklist steps done and records the survey. It checks
// only what needs the patch to check (a checklist step that does not
// exist); Cases.Update and Cases.Modify validate the result, record the
// audit trail and refuse a status move the life cycle does not allow.
// Apply changes only c, so Modify may call it again on a case it read again.
func (p Patch) Apply(c *Case, actor string, now time.Time) error {
	if p.Status != nil {
		c.Status = *p.Status
	}
	if p.Priority != nil {
		c.Priority = *p.Priority
	}
	if p.Assignee != nil {
		c.Assignee = *p.Assignee
	}
	if p.Title != nil {
		c.Title = *p.Title
	}
	if p.Description != nil {
		c.Description = *p.Description
	}
	for k, val := range p.Fields {
		if c.Fields == nil {
			c.Fields = map[string]string{}
		}
		if val == "" {
			delete(c.Fields, k)
		} else {
			c.Fields[k] = val
		}
	}
	if p.Comment != "" {
		c.Comments = append(c.Comments, Comment{At: now, Author: actor, Text: p.Comment})
	}
	c.Links = append(c.Links, p.Links...)
	for _, i := range p.Done {
		if i < 0 || i >= len(c.Checklist) {
			return fmt.Errorf("%w: checklist has no step %d", ErrInvalid, i)
		}
		if !c.Checklist[i].Done {
			c.Checklist[i] = Step{Text: c.Checklist[i].Text, Done: true, DoneBy: actor, DoneAt: now}
		}
	}
	if p.Survey != nil {
		c.Survey = &Survey{Score: p.Survey.Score, Comment: p.Survey.Comment, By: actor, At: now}
	}
	if p.Notification != "" {
		c.Timeline = append(c.Timeline, Entry{At: now, Kind: "notification", Actor: actor, Notification: p.Notification})
	}
	return nil
}
