package winevent

import (
	"strings"
	"time"

	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/parsers"
)

// SyslogBody recognises and reads the Windows events that agents send as the
// body (MSG) of syslog messages: Snare records ("MSWinEventLog" followed by
// its delimiter) and NXLog JSON (an object with an "EventID" key, from
// im_msvistalog with to_json()). It implements the syslog parser's
// BodyParser hook (parsers/syslog), which this package does not import.
// The zero value is ready and safe for concurrent use.
type SyslogBody struct{}

// NewSyslogBody returns the reader of Windows event bodies for the syslog
// parser.
func NewSyslogBody() *SyslogBody { return &SyslogBody{} }

// MatchBody reports whether msg is a Snare record or NXLog JSON, from its
// first bytes (and, for a JSON object, an "EventID" key). It does not
// allocate.
func (*SyslogBody) MatchBody(msg string) bool {
	return isSnareBody(msg) || isNXLogBody(msg)
}

func isSnareBody(msg string) bool {
	return len(msg) > len(snareMarker) && msg[:len(snareMarker)] == snareMarker &&
		strings.IndexByte(snareDelimiters, msg[len(snareMarker)]) >= 0
}

func isNXLogBody(msg string) bool {
	return len(msg) > 0 && msg[0] == '{' && strings.Contains(msg, `"EventID"`)
}

// ParseBody reads msg as MatchBody recognised it and maps the event with
// ToECS. Times without a zone (Snare's submit time, NXLog Community
// Edition's EventTime) are read in loc, the syslog parser's zone. The caller
// sets event.original and the syslog fields. Errors wrap
// parsers.ErrUnparsable.
func (*SyslogBody) ParseBody(msg string, loc *time.Location, e *event.Event) error {
	if isSnareBody(msg) {
		rec, err := ParseSnare([]byte(msg), loc)
		if err != nil {
			return err
		}
		return ToECS(*rec, e)
	}
	if isNXLogBody(msg) {
		return (&NXLogParser{Location: loc}).Parse([]byte(msg), parsers.Meta{}, e)
	}
	return errorf("syslog body is neither a Snare record nor NXLog JSON")
}
