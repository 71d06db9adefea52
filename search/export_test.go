package search

import (
	"testing"

	"github.com/blevesearch/bleve/v2"
)

// SetMappingVersionForTest stamps the index in dir with version v, as an
// older Scribe would have.
func SetMappingVersionForTest(t *testing.T, dir, v string) {
	t.Helper()
	idx, err := bleve.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	if err := idx.SetInternal(keyVersion, []byte(v)); err != nil {
		t.Fatal(err)
	}
}
