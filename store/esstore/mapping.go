package esstore

import (
	"fmt"
	"strings"
	"time"

	"github.com/mamori-soc/mamori/event"
)

// idField holds the document id as a keyword with doc values: Elasticsearch
// 8 does not sort on _id, and the store's paging breaks ties by id. The
// store appends it to every document it writes and removes it from every
// document it returns.
const idField = "mamori.id"

// maxKeyword is the longest keyword value indexed (ignore_above, in
// characters): at most 32,764 bytes of UTF-8, under Lucene's term limit.
const maxKeyword = 8191

// mappings returns the index mappings, generated from the event catalogue:
// every typed core field with its type, every other field a keyword (as the
// kql package and the embedded store treat dynamic fields), dates with
// nanosecond precision, message analysed like package textan.
func mappings() map[string]any {
	props := map[string]any{}
	for _, f := range event.Catalogue() {
		put(props, f.Name, fieldMapping(f.Type))
	}
	put(props, idField, fieldMapping(event.Keyword))
	keyword := map[string]any{"type": "keyword", "ignore_above": maxKeyword}
	var dynamic []any
	for _, t := range []string{"string", "long", "double", "boolean"} {
		dynamic = append(dynamic, map[string]any{
			"mamori_" + t + "_as_keyword": map[string]any{"match_mapping_type": t, "mapping": keyword},
		})
	}
	return map[string]any{
		"date_detection":    false,
		"numeric_detection": false,
		"dynamic_templates": dynamic,
		"properties":        props,
	}
}

func fieldMapping(t event.Type) map[string]any {
	switch t {
	case event.Keyword:
		return map[string]any{"type": "keyword", "ignore_above": maxKeyword}
	case event.Text:
		return map[string]any{"type": "text", "analyzer": analyzerName, "norms": false}
	case event.Date:
		return map[string]any{"type": "date_nanos"}
	default: // ip, long, double, boolean
		return map[string]any{"type": t.String()}
	}
}

// put places a field mapping at its dotted path as nested properties.
func put(props map[string]any, name string, m map[string]any) {
	parts := strings.Split(name, ".")
	for _, p := range parts[:len(parts)-1] {
		obj, ok := props[p].(map[string]any)
		if !ok {
			obj = map[string]any{"properties": map[string]any{}}
			props[p] = obj
		}
		props = obj["properties"].(map[string]any)
	}
	props[parts[len(parts)-1]] = m
}

// settings returns the index settings shared by all of Mamori's indices.
func (s *Store) settings() map[string]any {
	return map[string]any{
		"number_of_shards":           s.opts.Shards,
		"number_of_replicas":         s.opts.Replicas,
		"mapping.total_fields.limit": 10000,
		// A value of the wrong type for its field (a port "abc") is kept in
		// the document but not indexed, as the embedded store does; the
		// document itself is not rejected.
		"mapping.ignore_malformed": true,
		"analysis":                 analysis(),
		"query.default_field":      []string{"message"},
	}
}

// age renders a duration for lifecycle conditions, in whole seconds.
func age(d time.Duration) string { return fmt.Sprintf("%ds", int64(d/time.Second)) }
