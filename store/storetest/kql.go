package storetest

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/kql"
	"github.com/mamori-soc/mamori/kql/kqltest"
	"github.com/mamori-soc/mamori/store"
)

// testKQL runs the shared KQL case table (package kqltest) against the
// store: the fixture documents go into a fresh collection and every planned
// query must find exactly the documents the in-memory matcher finds.
func testKQL(t *testing.T, s store.Store) {
	ctx := context.Background()
	coll := collection(t)
	var docs []store.Doc
	for _, d := range kqltest.Docs() {
		docs = append(docs, store.Doc{ID: d.ID, Source: json.RawMessage(d.JSON)})
	}
	index(t, s, coll, docs...)
	kqltest.Run(t, func(t *testing.T, c kql.Cond) []string {
		res, err := s.Search(ctx, store.SearchRequest{Query: store.Query{Collection: coll, Filter: c}, Size: 10000})
		require.NoError(t, err)
		n, err := s.Count(ctx, store.Query{Collection: coll, Filter: c})
		require.NoError(t, err)
		require.EqualValues(t, len(res.Hits), n, "Count agrees with Search")
		return ids(res.Hits)
	})
}
