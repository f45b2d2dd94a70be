package logexport

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/mamori-soc/mamori/event"
)

// bom is the UTF-8 byte order mark.
const bom = "\ufeff"

// csvEncoder writes the requested columns of each event as one CSV record.
type csvEncoder struct {
	w      *csv.Writer
	fields []string
	proj   *event.Projection
	loc    *time.Location
	record []string
	sb     strings.Builder
}

func newCSVEncoder(w io.Writer, fields []string, loc *time.Location, withBOM bool) (*csvEncoder, error) {
	if withBOM {
		if _, err := io.WriteString(w, bom); err != nil {
			return nil, err
		}
	}
	e := &csvEncoder{
		w:      csv.NewWriter(w),
		fields: fields,
		proj:   event.NewProjection(fields),
		loc:    loc,
		record: make([]string, len(fields)),
	}
	e.w.UseCRLF = true
	if err := e.w.Write(fields); err != nil {
		return nil, err
	}
	return e, nil
}

func (e *csvEncoder) encode(src json.RawMessage) error {
	var ev event.Event
	// A document without @timestamp (which the store does not accept)
	// would still be written, with an empty time.
	if err := event.UnmarshalProjected(src, &ev, e.proj); err != nil && !errors.Is(err, event.ErrNoTimestamp) {
		return err
	}
	for i, f := range e.fields {
		v, _ := ev.Get(f)
		e.record[i] = e.cell(v)
	}
	return e.w.Write(e.record)
}

func (e *csvEncoder) flush() error {
	e.w.Flush()
	return e.w.Error()
}

// cell renders a field value: times in the export's zone, arrays joined
// with ";", objects as JSON.
func (e *csvEncoder) cell(v any) string {
	switch v := v.(type) {
	case []string:
		return strings.Join(v, ";")
	case []any:
		e.sb.Reset()
		for i, x := range v {
			if i > 0 {
				e.sb.WriteByte(';')
			}
			e.sb.WriteString(e.scalar(x))
		}
		return e.sb.String()
	}
	return e.scalar(v)
}

func (e *csvEncoder) scalar(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case time.Time:
		return v.In(e.loc).Format(time.RFC3339Nano)
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
