package search

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strconv"

	json "github.com/goccy/go-json"
)

// EncodeCursor turns a hit's sort values into an opaque page cursor.
func EncodeCursor(sort []any) string {
	b, _ := json.Marshal(sort)
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor reads a cursor made by EncodeCursor. Whole numbers come back
// as int64 (sort values such as nanosecond timestamps exceed float64's exact
// range), other numbers as float64.
func DecodeCursor(s string) ([]any, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	var out []any
	if err == nil {
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		err = dec.Decode(&out)
	}
	if err != nil || len(out) == 0 {
		return nil, fmt.Errorf("%w: after: not a cursor from a previous page", ErrBadRequest)
	}
	for i, v := range out {
		if n, ok := v.(json.Number); ok {
			if x, err := strconv.ParseInt(string(n), 10, 64); err == nil {
				out[i] = x
			} else {
				out[i], _ = n.Float64()
			}
		}
	}
	return out, nil
}
