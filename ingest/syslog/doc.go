// Package syslog is the syslog edge: it receives syslog over UDP (RFC 5426),
// TCP (RFC 6587) and TLS (RFC 5425), frames each message, stamps it and
// publishes its exact bytes, unparsed, to bus.TopicRawSyslog with format
// "syslog". Parsing is the parse stage's job.
//
// # Framing
//
// A UDP datagram is one message, published as received (a trailing LF, if
// the sender added one, is kept: the parse stage decides). On TCP and TLS a
// Scanner splits the stream (framing.go):
//
//   - octet-counting: "MSG-LEN SP SYSLOG-MSG" (RFC 6587 3.4.1, RFC 5425 4.3),
//     the default for TLS;
//   - non-transparent: a message ends at LF or NUL, and a CR before the LF is
//     part of the delimiter (RFC 6587 3.4.2, as rsyslog accepts);
//   - auto, the default for TCP: per frame, a non-zero digit followed by
//     digits and a space starts an octet-counted frame, anything else a
//     delimited one. Syslog messages start with "<", so both framings can
//     share one connection. Empty frames are skipped.
//
// A message longer than max_message_size is cut to it and published with
// the bus.HeaderTruncated header holding its original size; the rest is
// read and discarded without being buffered. An octet-counted frame cut
// short by the end of the connection is published the same way. A stream
// that breaks octet-counting rules is closed (it cannot be resynchronised)
// and counted as a framing error.
//
// # Delivery
//
// Each listener has its own ingest.Batcher. Records read but not yet durable
// on the bus are lost if the process dies: at most batch.queue_records
// records (batch.queue_bytes bytes) per listener, and, while the bus is
// healthy, records that arrived within about batch.max_wait. When the bus is
// down the queue fills: TCP and TLS readers stop reading, so senders slow
// down (back-pressure), and UDP datagrams are dropped and counted
// (mamori_ingest_dropped_records_total{reason="queue_full"}); datagrams the
// kernel drops are counted with reason "kernel". On shutdown, listeners stop
// accepting, read what senders already sent for a short grace, and
// everything queued is published within shutdown_timeout; what is left is
// counted with reason "shutdown" and reported by Run.
//
// Plain syslog has no acknowledgement: a sender cannot know whether its last
// messages before a connection closed were read. RELP would close that gap;
// it is not implemented.
package syslog
