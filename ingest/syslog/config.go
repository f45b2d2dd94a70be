package syslog

import (
	"bytes"
	"encoding"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/mamori-soc/mamori/ingest"
)

// Config is the syslog edge's configuration: the listeners it serves and
// how their records are batched onto the bus. Decode it strictly (Load
// does), then ApplyDefaults, then Validate.
type Config struct {
	// Listeners are the sockets to serve; at least one.
	Listeners []ListenerConfig `yaml:"listeners"`
	// Batch sets batching, queue limits and publish retry, per listener.
	// The queue limits bound how many received records may be lost if the
	// process dies before the bus has them.
	Batch ingest.BatchConfig `yaml:"batch"`
	// ShutdownTimeout bounds a graceful shutdown: reading what senders
	// already sent, then publishing everything queued. Records still not
	// durable then are dropped and counted. Default 10s.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
}

// ListenerConfig is one socket.
type ListenerConfig struct {
	// Name identifies the listener in records (mamori.receiver), metrics
	// (label listener) and logs; unique. Default "syslog-" + protocol.
	Name string `yaml:"name"`
	// Protocol is udp, tcp or tls. Default udp.
	Protocol Protocol `yaml:"protocol"`
	// Address is host:port to listen on. Default 127.0.0.1:5514 (udp, tcp)
	// or 127.0.0.1:6514 (tls): loopback unless told otherwise; use
	// 0.0.0.0:514 or [::]:514 to accept senders on the network.
	Address string `yaml:"address"`
	// Framing is how messages are delimited on tcp and tls streams: auto,
	// octet-counting or non-transparent. Default auto for tcp,
	// octet-counting for tls (RFC 5425). Not used by udp (one message per
	// datagram, RFC 5426).
	Framing Framing `yaml:"framing"`
	// MaxMessageSize is the longest message kept (480 bytes to 16MiB). A
	// longer message is cut to this size and published with the
	// mamori.truncated header holding its original size, so the parse stage
	// sends it to the dead-letter topic with a readable error. Default 64KiB.
	MaxMessageSize ingest.ByteSize `yaml:"max_message_size"`
	// ReadBufferSize is the socket receive buffer (SO_RCVBUF) of a udp
	// listener: room for bursts while the reader is busy. Linux caps it at
	// net.core.rmem_max; datagrams that do not fit are dropped by the
	// kernel and counted (reason kernel). Default 4MiB.
	ReadBufferSize ingest.ByteSize `yaml:"read_buffer_size"`
	// MaxConnections caps concurrent tcp or tls connections; further
	// connections are closed at once and counted. Default 512.
	MaxConnections int `yaml:"max_connections"`
	// IdleTimeout closes a tcp or tls connection that sent nothing for this
	// long. 0 (the default) never closes it: plain syslog has no
	// acknowledgement, so a sender writing into a connection just closed by
	// the server can lose that message; TCP keep-alive still detects dead
	// peers.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// TLS configures a tls listener; required for it, not allowed for others.
	TLS *TLSConfig `yaml:"tls"`
}

// TLSConfig is the server side of RFC 5425 (shared with the other edges).
type TLSConfig = ingest.TLSConfig

// ClientAuth is whether a tls listener asks for client certificates.
type ClientAuth = ingest.ClientAuth

// Client authentication modes.
const (
	ClientAuthNone     = ingest.ClientAuthNone
	ClientAuthOptional = ingest.ClientAuthOptional
	ClientAuthRequired = ingest.ClientAuthRequired
)

// Protocol is a listener's transport.
type Protocol int

// Protocols.
const (
	ProtocolUDP Protocol = iota + 1
	ProtocolTCP
	ProtocolTLS
)

var protocolNames = map[Protocol]string{ProtocolUDP: "udp", ProtocolTCP: "tcp", ProtocolTLS: "tls"}

// String returns "udp", "tcp" or "tls"; it is also the mamori.transport
// header.
func (p Protocol) String() string {
	if s, ok := protocolNames[p]; ok {
		return s
	}
	return fmt.Sprintf("Protocol(%d)", int(p))
}

// MarshalText implements encoding.TextMarshaler.
func (p Protocol) MarshalText() ([]byte, error) {
	if p == 0 {
		return nil, nil
	}
	if _, ok := protocolNames[p]; !ok {
		return nil, fmt.Errorf("unknown protocol %d", int(p))
	}
	return []byte(p.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (p *Protocol) UnmarshalText(text []byte) error {
	for k, v := range protocolNames {
		if v == string(text) {
			*p = k
			return nil
		}
	}
	return fmt.Errorf("protocol %q is unknown: use udp, tcp or tls", text)
}

// UnmarshalYAML decodes a YAML scalar, naming its line on error.
func (p *Protocol) UnmarshalYAML(n *yaml.Node) error { return unmarshalScalar(n, p) }

// unmarshalScalar decodes a YAML scalar with UnmarshalText and adds the
// line to errors.
func unmarshalScalar(n *yaml.Node, u encoding.TextUnmarshaler) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: expected a single value", n.Line)
	}
	if err := u.UnmarshalText([]byte(n.Value)); err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	return nil
}

// Defaults.
const (
	DefaultAddress         = "127.0.0.1:5514"
	DefaultTLSAddress      = "127.0.0.1:6514"
	DefaultMaxMessageSize  = 64 << 10
	DefaultReadBufferSize  = 4 << 20
	DefaultMaxConnections  = 512
	DefaultShutdownTimeout = 10 * time.Second
	DefaultHandshake       = ingest.DefaultHandshakeTimeout

	minMessageSize = 480 // RFC 5426 3.2: every receiver must take 480 octets
	maxMessageSize = 16 << 20
)

// Load decodes a YAML document strictly (unknown keys are errors), applies
// the defaults and validates it.
func Load(r io.Reader) (Config, error) {
	var c Config
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, fmt.Errorf("%w: %w", ingest.ErrInvalidConfig, err)
	}
	c.ApplyDefaults()
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// LoadBytes is Load over a byte slice.
func LoadBytes(b []byte) (Config, error) { return Load(bytes.NewReader(b)) }

// ApplyDefaults fills the zero fields with their defaults.
func (c *Config) ApplyDefaults() {
	c.Batch.ApplyDefaults()
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = DefaultShutdownTimeout
	}
	for i := range c.Listeners {
		c.Listeners[i].applyDefaults()
	}
}

func (l *ListenerConfig) applyDefaults() {
	if l.Protocol == 0 {
		l.Protocol = ProtocolUDP
	}
	if l.Name == "" {
		l.Name = "syslog-" + l.Protocol.String()
	}
	if l.Address == "" {
		l.Address = DefaultAddress
		if l.Protocol == ProtocolTLS {
			l.Address = DefaultTLSAddress
		}
	}
	if l.MaxMessageSize == 0 {
		l.MaxMessageSize = DefaultMaxMessageSize
	}
	switch l.Protocol {
	case ProtocolUDP:
		if l.ReadBufferSize == 0 {
			l.ReadBufferSize = DefaultReadBufferSize
		}
	case ProtocolTCP, ProtocolTLS:
		if l.Framing == 0 {
			l.Framing = FramingAuto
			if l.Protocol == ProtocolTLS {
				l.Framing = FramingOctetCounting
			}
		}
		if l.MaxConnections == 0 {
			l.MaxConnections = DefaultMaxConnections
		}
	}
	if l.TLS != nil {
		l.TLS.ApplyDefaults()
	}
}

// Validate checks a configuration after ApplyDefaults. Every problem is
// reported, each naming its key (relative to the syslog section) and the
// fix, all wrapping ingest.ErrInvalidConfig.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: %s: %s", ingest.ErrInvalidConfig, key, fmt.Sprintf(format, args...)))
	}
	if len(c.Listeners) == 0 {
		bad("listeners", "no listener; add one, for example {name: syslog-udp, protocol: udp, address: %q}", DefaultAddress)
	}
	if c.ShutdownTimeout < 0 {
		bad("shutdown_timeout", "%s is negative; use a duration such as 10s", c.ShutdownTimeout)
	}
	if err := c.Batch.Validate("batch"); err != nil {
		errs = append(errs, err)
	}
	names := map[string]int{}
	addrs := map[string]int{}
	for i, l := range c.Listeners {
		key := func(k string) string { return fmt.Sprintf("listeners[%d].%s", i, k) }
		if j, dup := names[l.Name]; dup {
			bad(key("name"), "%q is also the name of listeners[%d]; give each listener its own name", l.Name, j)
		}
		names[l.Name] = i
		if l.Name == "" {
			bad(key("name"), "empty; name the listener, for example syslog-udp")
		}
		if _, ok := protocolNames[l.Protocol]; !ok {
			bad(key("protocol"), "%s is not a protocol; use udp, tcp or tls", l.Protocol)
		}
		if port, err := checkAddress(l.Address); err != nil {
			bad(key("address"), "%v", err)
		} else if port != 0 {
			k := l.Protocol.netKind() + " " + l.Address
			if j, dup := addrs[k]; dup {
				bad(key("address"), "%s is also used by listeners[%d]; give each listener its own port", l.Address, j)
			}
			addrs[k] = i
		}
		if l.MaxMessageSize < minMessageSize || l.MaxMessageSize > maxMessageSize {
			bad(key("max_message_size"), "%s is outside %d bytes to 16MiB; the default is 64KiB", l.MaxMessageSize, minMessageSize)
		}
		if l.IdleTimeout < 0 {
			bad(key("idle_timeout"), "%s is negative; use 0 (never) or a duration such as 10m", l.IdleTimeout)
		}
		switch l.Protocol {
		case ProtocolUDP:
			if l.Framing != 0 {
				bad(key("framing"), "framing applies to tcp and tls only; remove it (a datagram is one message)")
			}
			if l.MaxConnections != 0 {
				bad(key("max_connections"), "applies to tcp and tls only; remove it")
			}
			if l.IdleTimeout != 0 {
				bad(key("idle_timeout"), "applies to tcp and tls only; remove it")
			}
			if l.ReadBufferSize < 0 {
				bad(key("read_buffer_size"), "%d is negative; use a size such as 4MiB", l.ReadBufferSize)
			}
			if l.TLS != nil {
				bad(key("tls"), "applies to protocol tls only; remove it or set protocol: tls")
			}
		case ProtocolTCP, ProtocolTLS:
			if _, ok := framingNames[l.Framing]; !ok {
				bad(key("framing"), "%s is not a framing; use auto, octet-counting or non-transparent", l.Framing)
			}
			if l.MaxConnections < 1 {
				bad(key("max_connections"), "%d is not positive; use at least 1 (default %d)", l.MaxConnections, DefaultMaxConnections)
			}
			if l.ReadBufferSize != 0 {
				bad(key("read_buffer_size"), "applies to udp only; remove it")
			}
			if l.Protocol == ProtocolTCP && l.TLS != nil {
				bad(key("tls"), "applies to protocol tls only; remove it or set protocol: tls")
			}
			if l.Protocol == ProtocolTLS {
				if l.TLS == nil {
					bad(key("tls"), "missing; a tls listener needs tls.cert_file and tls.key_file")
				} else {
					errs = append(errs, l.TLS.Validate(key("tls"))...)
				}
			}
		}
	}
	return errors.Join(errs...)
}

// checkAddress checks a listen address and returns its port.
func checkAddress(addr string) (uint16, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, fmt.Errorf("%q: %w; use host:port such as %s", addr, err, DefaultAddress)
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return 0, fmt.Errorf("port %q of %q is not a number from 0 to 65535", port, addr)
	}
	if host != "" && host != "localhost" && net.ParseIP(host) == nil {
		return 0, fmt.Errorf("host %q of %q is not an IP address; listen on an address such as 127.0.0.1, 0.0.0.0 or [::]", host, addr)
	}
	return uint16(p), nil
}

func (p Protocol) netKind() string {
	if p == ProtocolUDP {
		return "udp"
	}
	return "tcp"
}
