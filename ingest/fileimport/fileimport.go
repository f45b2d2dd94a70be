// Package fileimport brings Windows event files into the pipeline for
// backfill and forensics: .evtx files (converted to Event XML by
// ingest/evtx) and Event XML files (wevtutil output or Event Viewer
// exports, split by winevent.SplitXML). Each event becomes a raw record on
// mamori.raw.winlog with format "eventxml", stamped as an edge stamps what
// it receives, so imported events are parsed exactly like forwarded ones.
//
// Re-importing a file does not duplicate its events: the stamp is derived
// from the event itself, not from the import. The received time is the
// event's TimeCreated and the peer is its Computer, so the event id (a hash
// of receiver, peer, transport, received time and the raw bytes) is the
// same on every import of the same event, from any copy of the file. The
// cost: event.created of an imported event is its TimeCreated, not the
// time of the import (event.ingested still is).
//
// A record that cannot be read or whose XML does not parse is not dropped:
// it goes to the dead-letter topic with the file name and offset in its
// error, and is listed in the Result.
package fileimport

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/mamori-soc/mamori/bus"
	"github.com/mamori-soc/mamori/dlq"
	"github.com/mamori-soc/mamori/ingest"
	"github.com/mamori-soc/mamori/ingest/evtx"
	"github.com/mamori-soc/mamori/parsers"
	"github.com/mamori-soc/mamori/parsers/winevent"
)

// Transport is the mamori.transport of imported records.
const Transport = "file"

// DefaultReceiver is the mamori.receiver of imported records.
const DefaultReceiver = "import"

// Kind is the kind of an input file.
type Kind int

const (
	// EVTX is a Windows binary event log.
	EVTX Kind = iota + 1
	// EventXML is a stream of Event XML documents.
	EventXML
)

func (k Kind) String() string {
	switch k {
	case EVTX:
		return "evtx"
	case EventXML:
		return "xml"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// ErrUnknownFormat reports a file that is neither EVTX nor Event XML.
var ErrUnknownFormat = errors.New("neither an EVTX file nor Event XML")

// Detect tells the kind of a file from its first bytes, whatever its name.
func Detect(head []byte) (Kind, error) {
	if evtx.Detect(head) {
		return EVTX, nil
	}
	b := head
	switch {
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}), bytes.HasPrefix(b, []byte{0xFE, 0xFF}):
		return EventXML, nil
	case len(b) >= 2 && (b[0] == 0) != (b[1] == 0):
		return EventXML, nil // UTF-16 without a byte order mark
	}
	b = bytes.TrimLeft(bytes.TrimPrefix(b, []byte("\uFEFF")), " \t\r\n")
	if bytes.HasPrefix(b, []byte("<")) {
		return EventXML, nil
	}
	return 0, ErrUnknownFormat
}

// Options configure an Importer.
type Options struct {
	// Publisher takes the raw records and dead letters.
	Publisher bus.Producer
	// Receiver is the mamori.receiver header; DefaultReceiver when empty.
	Receiver string
	// Batch is the number of records per Publish call; 500 when zero.
	Batch int
	// Progress, when set, is called as a file is read with the bytes of it
	// read so far and the records published so far.
	Progress func(file string, bytesDone int64, records int)
	// Now is the clock for dead letters; time.Now when nil.
	Now func() time.Time
}

// Result is what importing one file did.
type Result struct {
	File      string
	Kind      Kind
	Size      int64
	Records   int       // published to mamori.raw.winlog
	Lost      int       // records sent to the dead-letter topic
	Problems  []Problem // damage, lost records, checksum warnings
	Truncated bool      // an XML file ended inside an event
}

// Problem is one piece of damage in a file.
type Problem struct {
	Offset int64  // byte offset in the file, -1 when unknown
	What   string // what happened, with the record id when known
}

// Importer imports files. It is used by one goroutine at a time.
type Importer struct {
	opt     Options
	pending []bus.Record
}

// New returns an Importer.
func New(opt Options) *Importer {
	if opt.Receiver == "" {
		opt.Receiver = DefaultReceiver
	}
	if opt.Batch <= 0 {
		opt.Batch = 500
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Importer{opt: opt}
}

// File imports one file. It returns an error when the file cannot be read
// at all or publishing fails; damage inside the file is in the Result.
func (im *Importer) File(ctx context.Context, path string) (*Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	head := make([]byte, 512)
	n, err := f.ReadAt(head, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	kind, err := Detect(head[:n])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	res := &Result{File: path, Kind: kind, Size: st.Size()}
	switch kind {
	case EVTX:
		err = im.evtx(ctx, f, res)
	default:
		err = im.xml(ctx, f, res)
	}
	if err == nil {
		err = im.flush(ctx)
	}
	if im.opt.Progress != nil {
		im.opt.Progress(path, res.Size, res.Records)
	}
	return res, err
}

func (im *Importer) evtx(ctx context.Context, f *os.File, res *Result) error {
	file, err := evtx.Open(f, res.Size)
	if err != nil {
		return fmt.Errorf("%s: %w", res.File, err)
	}
	for _, w := range file.Warnings {
		res.Problems = append(res.Problems, Problem{Offset: 0, What: w.Error()})
	}
	return file.Walk(func(r evtx.Record) error {
		if err := im.event(ctx, res, r.XML, r.Offset, fmt.Sprintf("record %d", r.ID)); err != nil {
			return err
		}
		if im.opt.Progress != nil {
			im.opt.Progress(res.File, r.Offset, res.Records)
		}
		return ctx.Err()
	}, func(p evtx.Problem) error {
		res.Problems = append(res.Problems, Problem{Offset: p.Offset, What: fmt.Sprintf("%s: %v", p.Kind, p)})
		if p.Kind != evtx.RecordLost {
			return nil
		}
		res.Lost++
		return im.deadLetter(ctx, res, bytes.Clone(p.Raw), fmt.Errorf("evtx %s: %v", res.File, p))
	})
}

// countingReader counts the bytes read from a file, for progress.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (im *Importer) xml(ctx context.Context, f *os.File, res *Result) error {
	cr := &countingReader{r: f}
	i := 0
	err := winevent.SplitXML(bufio.NewReaderSize(cr, 64<<10), func(ev []byte) error {
		i++
		if err := im.event(ctx, res, bytes.Clone(ev), -1, fmt.Sprintf("event %d", i)); err != nil {
			return err
		}
		if im.opt.Progress != nil {
			im.opt.Progress(res.File, cr.n, res.Records)
		}
		return ctx.Err()
	})
	if err != nil && errors.Is(err, parsers.ErrUnparsable) {
		// The events before the damage were imported; say where it stopped.
		res.Truncated = true
		res.Problems = append(res.Problems, Problem{Offset: -1, What: err.Error()})
		return nil
	}
	return err
}

// event publishes one Event XML document, or dead-letters it when it does
// not parse (the parse stage would fail it too, but without the file and
// position, and with a stamp that would differ on every import).
func (im *Importer) event(ctx context.Context, res *Result, xml []byte, off int64, what string) error {
	rec, err := winevent.ParseXML(xml)
	if err != nil {
		res.Lost++
		where := what
		if off >= 0 {
			where = fmt.Sprintf("%s at offset %d (0x%x)", what, off, off)
		}
		res.Problems = append(res.Problems, Problem{Offset: off, What: fmt.Sprintf("%s: %v", where, err)})
		return im.deadLetter(ctx, res, bytes.Clone(xml), fmt.Errorf("%s %s: %w", res.File, where, err))
	}
	im.pending = append(im.pending, im.raw(rec.Computer, rec.Computer, rec.TimeCreated.UTC(), bytes.Clone(xml)))
	res.Records++
	return im.maybeFlush(ctx)
}

// deadLetter sends what could not be read to the dead-letter topic, as the
// raw record it would have been (so `mamori dlq replay` can retry it after
// a fix), stamped with the import time and the file as peer.
func (im *Importer) deadLetter(ctx context.Context, res *Result, raw []byte, cause error) error {
	now := im.opt.Now().UTC()
	src := im.raw(filepath.Base(res.File), res.File, now, raw)
	src.Time, src.Offset = time.Time{}, -1 // it never was on the bus; the file offset is in the error
	im.pending = append(im.pending, dlq.Wrap(src, "import", cause, now))
	return im.maybeFlush(ctx)
}

// raw is the record an edge would have stamped: key, peer and receive
// time as given, this import as receiver, transport file, format eventxml.
func (im *Importer) raw(key, peer string, received time.Time, value []byte) bus.Record {
	return bus.Record{
		Topic: bus.TopicRawWinlog,
		Key:   []byte(key),
		Value: value,
		Headers: []bus.Header{
			{Key: bus.HeaderReceived, Value: received.AppendFormat(nil, ingest.ReceivedLayout)},
			{Key: bus.HeaderReceiver, Value: []byte(im.opt.Receiver)},
			{Key: bus.HeaderPeer, Value: []byte(peer)},
			{Key: bus.HeaderTransport, Value: []byte(Transport)},
			{Key: bus.HeaderFormat, Value: []byte(winevent.FormatXML)},
		},
		Time: received,
	}
}

func (im *Importer) maybeFlush(ctx context.Context) error {
	if len(im.pending) < im.opt.Batch {
		return nil
	}
	return im.flush(ctx)
}

func (im *Importer) flush(ctx context.Context) error {
	if len(im.pending) == 0 {
		return nil
	}
	if err := im.opt.Publisher.Publish(ctx, im.pending...); err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	im.pending = im.pending[:0]
	return nil
}
