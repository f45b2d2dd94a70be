package event

import (
	"fmt"
	"sort"
	"time"
)

// Type is the search type of a field: how queries compare values and how the
// stores index them. It mirrors the Elasticsearch mapping types ECS uses.
type Type int

// Field types.
const (
	Keyword Type = iota // exact, case-sensitive string; wildcards allowed
	Text                // analysed full text (see package textan)
	IP                  // IPv4 or IPv6 address; CIDR queries
	Long                // 64-bit integer
	Double              // 64-bit float
	Date                // instant, stored in UTC
	Boolean             // true or false
)

var typeNames = [...]string{"keyword", "text", "ip", "long", "double", "date", "boolean"}

// String returns the Elasticsearch mapping type name.
func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return fmt.Sprintf("Type(%d)", int(t))
}

// Field describes one typed core field of Event.
type Field struct {
	Name  string // dotted ECS name
	Type  Type
	Multi bool // an array in ECS (event.category, host.ip, related.*)
	// Hot fields are indexed for fast filtering by the embedded store.
	Hot bool
	get func(*Event) (any, bool)
	set func(*Event, any) error
	// setString, when not nil, sets a string as set would, without
	// making it an interface value (Unmarshal's fast path).
	setString func(*Event, string)
	// getString, when not nil, reads a single-valued string field without
	// making it an interface value (see StringOf).
	getString func(*Event) (string, bool)
}

// IsString reports whether the field holds a single string, so that
// StringOf reads it.
func (f *Field) IsString() bool { return f.getString != nil }

// StringOf returns the value of a single-valued string field (IsString)
// without boxing it in an interface as Event.Get does: matchers that run on
// every event use it. The boolean is false when the field is absent or
// empty.
func (f *Field) StringOf(e *Event) (string, bool) { return f.getString(e) }

// Lookup returns the typed core field with that dotted name, or nil when the
// name is not part of the typed core (it may still be in Event.Fields).
func Lookup(name string) *Field { return catalogue[name] }

// Catalogue returns every typed core field, sorted by name.
func Catalogue() []*Field {
	out := make([]*Field, 0, len(catalogue))
	for _, f := range catalogue {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// TypeOf returns the search type of a field name: the catalogue's type for the
// typed core, Keyword for anything else (dynamic string fields are keywords, as
// in the ECS index templates).
func TypeOf(name string) Type {
	if f := catalogue[name]; f != nil {
		return f.Type
	}
	return Keyword
}

// Get returns the value of a field by dotted name. Values are string,
// []string, int64, float64, bool, time.Time or []any. The boolean is false when
// the field is absent or empty.
func (e *Event) Get(name string) (any, bool) {
	if f := catalogue[name]; f != nil {
		return f.get(e)
	}
	v, ok := e.Fields[name]
	return v, ok
}

// Set assigns a field by dotted name. A typed core field checks the value's
// type; any other name goes into Fields.
func (e *Event) Set(name string, v any) error {
	if f := catalogue[name]; f != nil {
		if err := f.set(e, v); err != nil {
			return fmt.Errorf("event: field %s: %w", name, err)
		}
		return nil
	}
	if e.Fields == nil {
		e.Fields = make(map[string]any)
	}
	e.Fields[name] = v
	return nil
}

var catalogue = map[string]*Field{}

func def(name string, t Type, get func(*Event) (any, bool), set func(*Event, any) error) *Field {
	f := &Field{Name: name, Type: t, get: get, set: set}
	catalogue[name] = f
	fieldIndex.add(f)
	return f
}

// str defines a single-valued string field reached through ptr, which
// allocates the enclosing field set when alloc is true.
func str(name string, t Type, ptr func(e *Event, alloc bool) *string) *Field {
	f := def(name, t,
		func(e *Event) (any, bool) {
			p := ptr(e, false)
			if p == nil || *p == "" {
				return nil, false
			}
			return *p, true
		},
		func(e *Event, v any) error {
			s, ok := v.(string)
			if !ok {
				return fmt.Errorf("want a string, got %T", v)
			}
			*ptr(e, true) = s
			return nil
		})
	f.setString = func(e *Event, s string) { *ptr(e, true) = s }
	f.getString = func(e *Event) (string, bool) {
		p := ptr(e, false)
		if p == nil || *p == "" {
			return "", false
		}
		return *p, true
	}
	return f
}

func strs(name string, t Type, ptr func(e *Event, alloc bool) *[]string) *Field {
	f := def(name, t,
		func(e *Event) (any, bool) {
			p := ptr(e, false)
			if p == nil || len(*p) == 0 {
				return nil, false
			}
			return *p, true
		},
		func(e *Event, v any) error {
			ss, err := toStrings(v)
			if err != nil {
				return err
			}
			*ptr(e, true) = ss
			return nil
		})
	f.Multi = true
	return f
}

func long(name string, ptr func(e *Event, alloc bool) *int64) *Field {
	return def(name, Long,
		func(e *Event) (any, bool) {
			p := ptr(e, false)
			if p == nil || *p == 0 {
				return nil, false
			}
			return *p, true
		},
		func(e *Event, v any) error {
			n, err := toInt(v)
			if err != nil {
				return err
			}
			*ptr(e, true) = n
			return nil
		})
}

func date(name string, ptr func(e *Event) *time.Time) *Field {
	return def(name, Date,
		func(e *Event) (any, bool) {
			p := ptr(e)
			if p.IsZero() {
				return nil, false
			}
			return *p, true
		},
		func(e *Event, v any) error {
			t, err := toTime(v)
			if err != nil {
				return err
			}
			*ptr(e) = t
			return nil
		})
}

// optLong defines an integer field where zero is a value and nil is absence.
func optLong(name string, ptr func(e *Event) **int64) *Field {
	return def(name, Long,
		func(e *Event) (any, bool) {
			if p := *ptr(e); p != nil {
				return *p, true
			}
			return nil, false
		},
		func(e *Event, v any) error {
			n, err := toInt(v)
			if err == nil {
				*ptr(e) = &n
			}
			return err
		})
}

// optDate defines a time field that may be absent.
func optDate(name string, ptr func(e *Event) **time.Time) *Field {
	return def(name, Date,
		func(e *Event) (any, bool) {
			if p := *ptr(e); p != nil {
				return *p, true
			}
			return nil, false
		},
		func(e *Event, v any) error {
			t, err := toTime(v)
			if err == nil {
				*ptr(e) = &t
			}
			return err
		})
}

func toStrings(v any) ([]string, error) {
	switch x := v.(type) {
	case []string:
		return x, nil
	case string:
		return []string{x}, nil
	case []any:
		out := make([]string, 0, len(x))
		for _, el := range x {
			s, ok := el.(string)
			if !ok {
				return nil, fmt.Errorf("want strings, got %T in array", el)
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("want strings, got %T", v)
}

func toInt(v any) (int64, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case int:
		return int64(x), nil
	case float64:
		if x != float64(int64(x)) {
			return 0, fmt.Errorf("want an integer, got %v", x)
		}
		return int64(x), nil
	}
	return 0, fmt.Errorf("want an integer, got %T", v)
}

func toTime(v any) (time.Time, error) {
	switch x := v.(type) {
	case time.Time:
		return x.UTC(), nil
	case string:
		t, err := time.Parse(time.RFC3339Nano, x)
		if err != nil {
			return time.Time{}, fmt.Errorf("want an RFC 3339 time: %w", err)
		}
		return t.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("want a time, got %T", v)
}

// loose defines a typed field kept in Fields rather than in a struct: the
// catalogue gives it its type (for the stores' mappings and KQL ranges) and
// converts what is set, so a date read back from JSON is a time again.
func loose(name string, t Type) *Field {
	conv := map[Type]func(any) (any, error){
		Date:   func(v any) (any, error) { return toTime(v) },
		Long:   func(v any) (any, error) { return toInt(v) },
		Double: func(v any) (any, error) { return toFloat(v) },
	}[t]
	return def(name, t,
		func(e *Event) (any, bool) {
			v, ok := e.Fields[name]
			return v, ok
		},
		func(e *Event, v any) error {
			x, err := conv(v)
			if err != nil {
				return err
			}
			if e.Fields == nil {
				e.Fields = make(map[string]any)
			}
			e.Fields[name] = x
			return nil
		})
}

func toFloat(v any) (float64, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case int64:
		return float64(x), nil
	case int:
		return float64(x), nil
	}
	return 0, fmt.Errorf("want a number, got %T", v)
}

// The typed core. Hot fields are the ones analysts filter on most.
func init() {
	// Alerts (package detections) and ECS's event time span.
	loose("event.start", Date)
	loose("event.end", Date)
	loose("event.risk_score", Double)
	loose("mamori.alert.count", Long)
	loose("mamori.alert.window_start", Date)

	date("@timestamp", func(e *Event) *time.Time { return &e.Timestamp })
	str("message", Text, func(e *Event, _ bool) *string { return &e.Message })
	strs("tags", Keyword, func(e *Event, _ bool) *[]string { return &e.Tags })

	str("event.id", Keyword, func(e *Event, _ bool) *string { return &e.Event.ID })
	str("event.kind", Keyword, func(e *Event, _ bool) *string { return &e.Event.Kind })
	strs("event.category", Keyword, func(e *Event, _ bool) *[]string { return &e.Event.Category })
	strs("event.type", Keyword, func(e *Event, _ bool) *[]string { return &e.Event.Type })
	str("event.action", Keyword, func(e *Event, _ bool) *string { return &e.Event.Action }).Hot = true
	str("event.code", Keyword, func(e *Event, _ bool) *string { return &e.Event.Code }).Hot = true
	str("event.outcome", Keyword, func(e *Event, _ bool) *string { return &e.Event.Outcome })
	str("event.dataset", Keyword, func(e *Event, _ bool) *string { return &e.Event.Dataset })
	str("event.module", Keyword, func(e *Event, _ bool) *string { return &e.Event.Module })
	str("event.provider", Keyword, func(e *Event, _ bool) *string { return &e.Event.Provider })
	optLong("event.severity", func(e *Event) **int64 { return &e.Event.Severity })
	str("event.reason", Keyword, func(e *Event, _ bool) *string { return &e.Event.Reason })
	optDate("event.created", func(e *Event) **time.Time { return &e.Event.Created })
	optDate("event.ingested", func(e *Event) **time.Time { return &e.Event.Ingested })
	str("event.original", Keyword, func(e *Event, _ bool) *string { return &e.Event.Original })

	agent := func(e *Event, alloc bool) *Agent {
		if e.Agent == nil && alloc {
			e.Agent = &Agent{}
		}
		return e.Agent
	}
	str("agent.name", Keyword, func(e *Event, a bool) *string { return field(agent(e, a), func(x *Agent) *string { return &x.Name }) })
	str("agent.type", Keyword, func(e *Event, a bool) *string { return field(agent(e, a), func(x *Agent) *string { return &x.Type }) })

	host := func(e *Event, alloc bool) *Host {
		if e.Host == nil && alloc {
			e.Host = &Host{}
		}
		return e.Host
	}
	str("host.name", Keyword, func(e *Event, a bool) *string { return field(host(e, a), func(x *Host) *string { return &x.Name }) }).Hot = true
	str("host.hostname", Keyword, func(e *Event, a bool) *string { return field(host(e, a), func(x *Host) *string { return &x.Hostname }) }).Hot = true
	strs("host.ip", IP, func(e *Event, a bool) *[]string { return field(host(e, a), func(x *Host) *[]string { return &x.IP }) })

	for _, side := range []string{"source", "destination"} {
		ep := func(e *Event, alloc bool) *Endpoint {
			p := &e.Source
			if side == "destination" {
				p = &e.Destination
			}
			if *p == nil && alloc {
				*p = &Endpoint{}
			}
			return *p
		}
		str(side+".ip", IP, func(e *Event, a bool) *string { return field(ep(e, a), func(x *Endpoint) *string { return &x.IP }) }).Hot = side == "source"
		long(side+".port", func(e *Event, a bool) *int64 { return field(ep(e, a), func(x *Endpoint) *int64 { return &x.Port }) })
		str(side+".address", Keyword, func(e *Event, a bool) *string {
			return field(ep(e, a), func(x *Endpoint) *string { return &x.Address })
		})
		str(side+".domain", Keyword, func(e *Event, a bool) *string { return field(ep(e, a), func(x *Endpoint) *string { return &x.Domain }) })
	}

	user := func(e *Event, alloc bool) *User {
		if e.User == nil && alloc {
			e.User = &User{}
		}
		return e.User
	}
	str("user.name", Keyword, func(e *Event, a bool) *string { return field(user(e, a), func(x *User) *string { return &x.Name }) }).Hot = true
	str("user.domain", Keyword, func(e *Event, a bool) *string { return field(user(e, a), func(x *User) *string { return &x.Domain }) })
	str("user.id", Keyword, func(e *Event, a bool) *string { return field(user(e, a), func(x *User) *string { return &x.ID }) })
	str("user.full_name", Keyword, func(e *Event, a bool) *string { return field(user(e, a), func(x *User) *string { return &x.FullName }) })

	proc := func(e *Event, alloc bool) *Process {
		if e.Process == nil && alloc {
			e.Process = &Process{}
		}
		return e.Process
	}
	str("process.name", Keyword, func(e *Event, a bool) *string { return field(proc(e, a), func(x *Process) *string { return &x.Name }) }).Hot = true
	long("process.pid", func(e *Event, a bool) *int64 { return field(proc(e, a), func(x *Process) *int64 { return &x.PID }) })

	netw := func(e *Event, alloc bool) *Network {
		if e.Network == nil && alloc {
			e.Network = &Network{}
		}
		return e.Network
	}
	str("network.transport", Keyword, func(e *Event, a bool) *string {
		return field(netw(e, a), func(x *Network) *string { return &x.Transport })
	})
	str("network.protocol", Keyword, func(e *Event, a bool) *string {
		return field(netw(e, a), func(x *Network) *string { return &x.Protocol })
	})

	logp := func(e *Event, alloc bool) *Log {
		if e.Log == nil && alloc {
			e.Log = &Log{}
		}
		return e.Log
	}
	str("log.level", Keyword, func(e *Event, a bool) *string { return field(logp(e, a), func(x *Log) *string { return &x.Level }) })
	str("log.source.address", Keyword, func(e *Event, a bool) *string {
		return field(logp(e, a), func(x *Log) *string {
			if x.Source == nil {
				if !a {
					return nil
				}
				x.Source = &LogSource{}
			}
			return &x.Source.Address
		})
	})
	sys := func(e *Event, alloc bool) *Syslog {
		l := logp(e, alloc)
		if l == nil {
			return nil
		}
		if l.Syslog == nil && alloc {
			l.Syslog = &Syslog{}
		}
		return l.Syslog
	}
	str("log.syslog.hostname", Keyword, func(e *Event, a bool) *string {
		return field(sys(e, a), func(x *Syslog) *string { return &x.Hostname })
	})
	str("log.syslog.appname", Keyword, func(e *Event, a bool) *string { return field(sys(e, a), func(x *Syslog) *string { return &x.Appname }) })
	str("log.syslog.procid", Keyword, func(e *Event, a bool) *string { return field(sys(e, a), func(x *Syslog) *string { return &x.Procid }) })
	str("log.syslog.msgid", Keyword, func(e *Event, a bool) *string { return field(sys(e, a), func(x *Syslog) *string { return &x.MsgID }) })
	str("log.syslog.version", Keyword, func(e *Event, a bool) *string { return field(sys(e, a), func(x *Syslog) *string { return &x.Version }) })
	for _, part := range []string{"facility", "severity"} {
		code := func(e *Event, alloc bool) *Code {
			s := sys(e, alloc)
			if s == nil {
				return nil
			}
			p := &s.Facility
			if part == "severity" {
				p = &s.Severity
			}
			if *p == nil && alloc {
				*p = &Code{}
			}
			return *p
		}
		def("log.syslog."+part+".code", Long,
			func(e *Event) (any, bool) {
				if c := code(e, false); c != nil {
					return c.Code, true
				}
				return nil, false
			},
			func(e *Event, v any) error {
				n, err := toInt(v)
				if err == nil {
					code(e, true).Code = n
				}
				return err
			})
		str("log.syslog."+part+".name", Keyword, func(e *Event, a bool) *string { return field(code(e, a), func(x *Code) *string { return &x.Name }) })
	}
	def("log.syslog.priority", Long,
		func(e *Event) (any, bool) {
			if s := sys(e, false); s != nil && s.Priority != nil {
				return *s.Priority, true
			}
			return nil, false
		},
		func(e *Event, v any) error {
			n, err := toInt(v)
			if err == nil {
				sys(e, true).Priority = &n
			}
			return err
		})

	rel := func(e *Event, alloc bool) *Related {
		if e.Related == nil && alloc {
			e.Related = &Related{}
		}
		return e.Related
	}
	strs("related.ip", IP, func(e *Event, a bool) *[]string { return field(rel(e, a), func(x *Related) *[]string { return &x.IP }) })
	strs("related.user", Keyword, func(e *Event, a bool) *[]string {
		return field(rel(e, a), func(x *Related) *[]string { return &x.User })
	})
	strs("related.hosts", Keyword, func(e *Event, a bool) *[]string {
		return field(rel(e, a), func(x *Related) *[]string { return &x.Hosts })
	})
	strs("related.hash", Keyword, func(e *Event, a bool) *[]string {
		return field(rel(e, a), func(x *Related) *[]string { return &x.Hash })
	})

	in := func(e *Event, alloc bool) *Input {
		if e.Input == nil && alloc {
			e.Input = &Input{}
		}
		return e.Input
	}
	str("input.type", Keyword, func(e *Event, a bool) *string { return field(in(e, a), func(x *Input) *string { return &x.Type }) })
}

// field returns a pointer into a possibly nil field set.
func field[S any, T any](s *S, f func(*S) *T) *T {
	if s == nil {
		return nil
	}
	return f(s)
}
