package winevent

import (
	"strconv"
	"time"

	"github.com/mamori-soc/mamori/event"
)

// Identity returns the natural key of a Windows event: the computer, the
// channel, the EventRecordID and the time to the second. Windows numbers
// records per channel and computer, and numbers restart only when the log
// is cleared, at a later time. The key is the same whichever way the event
// travelled (Event XML forwarded or imported from .evtx, Winlogbeat JSON,
// NXLog JSON; their times differ below the second), so the parse stage can
// give one event one id even when it arrives twice: a sender's retry, an
// import that overlaps what was forwarded. ok is false for events without a
// record id (Snare carries none), which keep their receive-based id.
func Identity(e *event.Event) (key []byte, ok bool) {
	channel, _ := e.Get("winlog.channel")
	computer, _ := e.Get("winlog.computer_name")
	record, _ := e.Get("winlog.record_id")
	c, _ := channel.(string)
	h, _ := computer.(string)
	r, _ := record.(string)
	if c == "" || h == "" || r == "" || e.Timestamp.IsZero() {
		return nil, false
	}
	key = make([]byte, 0, 16+len(c)+len(h)+len(r)+20)
	key = append(key, "winlog\x00"...)
	key = append(key, h...)
	key = append(key, 0)
	key = append(key, c...)
	key = append(key, 0)
	key = append(key, r...)
	key = append(key, 0)
	key = strconv.AppendInt(key, e.Timestamp.Truncate(time.Second).Unix(), 10)
	return key, true
}
