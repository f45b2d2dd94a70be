package event

import (
	"bytes"
	"fmt"
	"strconv"
	"time"

	json "github.com/goccy/go-json"
)

// referenceUnmarshal is Unmarshal as it was before it read the document
// with package jsonread: a decoding into a map[string]any with
// github.com/goccy/go-json, then a walk of the map. The tests require the
// same results of both (decode_test.go); BenchmarkUnmarshal measures both.
// It visits the members in the map's order, so when two members name the
// same field, which one wins changes from run to run.
func referenceUnmarshal(data []byte, e *Event) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return fmt.Errorf("event: decode: %w", err)
	}
	*e = Event{}
	if err := e.referenceAbsorb("", doc); err != nil {
		return err
	}
	if e.Timestamp.IsZero() {
		return ErrNoTimestamp
	}
	return nil
}

func (e *Event) referenceAbsorb(prefix string, obj map[string]any) error {
	for k, v := range obj {
		name := k
		if prefix != "" {
			name = prefix + "." + k
		}
		if f := catalogue[name]; f != nil {
			if err := f.set(e, referencePlain(v, f.Type)); err != nil {
				return fmt.Errorf("event: field %s: %w", name, err)
			}
			continue
		}
		if m, ok := v.(map[string]any); ok && len(m) > 0 {
			if err := e.referenceAbsorb(name, m); err != nil {
				return err
			}
			continue
		}
		if err := e.Set(name, referencePlain(v, Keyword)); err != nil {
			return err
		}
	}
	return nil
}

// referencePlain turns decoded JSON into the value types Event uses.
func referencePlain(v any, t Type) any {
	switch x := v.(type) {
	case json.Number:
		if n, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return n
		}
		f, _ := x.Float64()
		return f
	case string:
		if t == Date {
			if ts, err := time.Parse(time.RFC3339Nano, x); err == nil {
				return ts.UTC()
			}
		}
		return x
	case []any:
		for i := range x {
			x[i] = referencePlain(x[i], t)
		}
		return x
	case map[string]any:
		for k := range x {
			x[k] = referencePlain(x[k], t)
		}
		return x
	}
	return v
}
