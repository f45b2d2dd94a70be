package syslog

import (
	"time"

	"github.com/mamori-soc/mamori/event"
)

// BodyParser reads a syslog message body (MSG) that is an event of its own
// in another format, such as a Windows event that Snare or NXLog sent over
// syslog (winevent.SyslogBody). The syslog parser offers every message's
// MSG to MatchBody; when it matches, the event is ParseBody's, with the
// syslog facts added: log.syslog.* and structured data, host.* from the
// syslog header when the body names no host, and event.original, the whole
// syslog message. When ParseBody fails, the message becomes an ordinary
// syslog event tagged TagBodyParseFailure, with the error in error.message,
// so that it stays searchable.
//
// Implementations must be safe for concurrent use.
type BodyParser interface {
	// MatchBody reports whether msg is in the parser's format. It is
	// called for every message, so it must decide from the first bytes of
	// msg where it can, and must not allocate.
	MatchBody(msg string) bool
	// ParseBody fills e, which is reset, from msg. loc is the syslog
	// parser's zone, for times in msg that carry none. It must not retain
	// msg. Errors wrap parsers.ErrUnparsable.
	ParseBody(msg string, loc *time.Location, e *event.Event) error
}

// TagBodyParseFailure tags a message whose body a BodyParser recognised but
// could not read.
const TagBodyParseFailure = "_body_parse_failure"

// Option configures a Parser beyond its Config: what the application wires
// in rather than what users set.
type Option func(*Parser)

// WithBodyParsers makes the parser read message bodies that bp recognise,
// asking them in order.
func WithBodyParsers(bp ...BodyParser) Option {
	return func(p *Parser) { p.bodies = append(p.bodies, bp...) }
}

// bodyParser returns the first body parser that recognises text.
func (p *Parser) bodyParser(text string) BodyParser {
	for _, bp := range p.bodies {
		if bp.MatchBody(text) {
			return bp
		}
	}
	return nil
}

// fillBody fills e from a body that bp recognised, or, when bp cannot read
// it, as an ordinary syslog message tagged TagBodyParseFailure.
func (p *Parser) fillBody(bp BodyParser, e *event.Event, m *message, original, peer string, ref time.Time, ms *machines) {
	if err := bp.ParseBody(m.text, p.loc, e); err != nil {
		*e = event.Event{}
		p.fill(e, m, original, peer, ref, ms)
		e.Tags = append(e.Tags, TagBodyParseFailure)
		if e.Fields == nil {
			e.Fields = make(map[string]any, 1)
		}
		e.Fields["error.message"] = err.Error()
		return
	}
	var sys event.Event
	p.fill(&sys, m, original, peer, ref, ms)
	if e.Log == nil {
		e.Log = &event.Log{}
	}
	e.Log.Syslog = sys.Log.Syslog
	if e.Host == nil {
		e.Host = sys.Host
	}
	if len(sys.Fields) > 0 {
		if e.Fields == nil {
			e.Fields = make(map[string]any, len(sys.Fields))
		}
		for k, v := range sys.Fields {
			e.Fields[k] = v
		}
	}
	e.Event.Original = original
}
