package search

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/lang/ar"
	"github.com/blevesearch/bleve/v2/analysis/lang/cjk"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/single"
	bunicode "github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/registry"
	"github.com/blevesearch/bleve/v2/search/highlight/highlighter/html"
	"github.com/blevesearch/bleve/v2/search/query"
	"golang.org/x/text/unicode/norm"

	"github.com/scribe-notes/scribe"
)

// MappingVersion stamps an index with the mapping and analysis it was built
// with. Change it with any change to buildMapping or the analyzers: an index
// with another stamp is deleted and rebuilt from the store on open.
const MappingVersion = "3" // 2: the series field; 3: the ledger

// Internal keys the Bleve index keeps beside its documents.
var (
	keyVersion = []byte("scribe.mapping")
	keyCursor  = []byte("scribe.cursor")
)

// Analyzer and filter names.
const (
	textAnalyzer    = "scribe_text"
	keywordAnalyzer = "scribe_keyword"
	foldFilter      = "scribe_fold"
)

// Field names, and their weight in ranking.
const (
	fTitle     = "title"
	fText      = "text"
	fDecisions = "decisions"
	fActions   = "actions"
	fTemplate  = "template"
	fSeries    = "series"
	fPeople    = "people"
	fDate      = "date"
	fRev       = "rev"
	fLedger    = "ledger"
)

var textFields = []struct {
	name  string
	boost float64
}{{fTitle, 3}, {fDecisions, 2}, {fActions, 2}, {fText, 1}}

func init() {
	if err := registry.RegisterTokenFilter(foldFilter, func(map[string]any, *registry.Cache) (analysis.TokenFilter, error) {
		return foldTokens{}, nil
	}); err != nil {
		panic(err)
	}
}

// foldTokens removes diacritics (é -> e, and Arabic harakat) from every
// token: NFD, drop non-spacing marks, NFC. It works on tokens, not on the
// text, so offsets still point into the original text and highlights land
// on the right characters.
type foldTokens struct{}

func (foldTokens) Filter(in analysis.TokenStream) analysis.TokenStream {
	for _, t := range in {
		if isASCII(t.Term) {
			continue
		}
		d := norm.NFD.Bytes(t.Term)
		out := d[:0]
		for i := 0; i < len(d); {
			r, n := utf8.DecodeRune(d[i:])
			if !unicode.Is(unicode.Mn, r) {
				out = append(out, d[i:i+n]...)
			}
			i += n
		}
		if len(out) > 0 {
			t.Term = norm.NFC.Bytes(out)
		}
	}
	return in
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// buildMapping is the one analysis chain for every language a note may mix:
// Unicode word segmentation; full-width forms folded (cjk_width); lower
// case; Arabic letter variants normalised; diacritics removed; and CJK
// ideographs indexed as overlapping bigrams (a lone one as itself), so
// Chinese and Japanese without spaces are searchable. No stemming and no
// stop words: a mixed-language note has no one language to stem, and
// phrases and prefixes match what was typed.
func buildMapping() (*mapping.IndexMappingImpl, error) {
	im := bleve.NewIndexMapping()
	if err := im.AddCustomAnalyzer(textAnalyzer, map[string]any{
		"type":          custom.Name,
		"tokenizer":     bunicode.Name,
		"token_filters": []any{cjk.WidthName, lowercase.Name, ar.NormalizeName, foldFilter, cjk.BigramName},
	}); err != nil {
		return nil, err
	}
	if err := im.AddCustomAnalyzer(keywordAnalyzer, map[string]any{
		"type":          custom.Name,
		"tokenizer":     single.Name,
		"token_filters": []any{lowercase.Name, foldFilter},
	}); err != nil {
		return nil, err
	}
	text := func() *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Analyzer = textAnalyzer
		f.Store = true
		f.IncludeTermVectors = true // for highlighting and phrases
		return f
	}
	keyword := bleve.NewTextFieldMapping()
	keyword.Analyzer = keywordAnalyzer
	keyword.Store = true
	keyword.IncludeTermVectors = false
	date := bleve.NewDateTimeFieldMapping()
	rev := bleve.NewNumericFieldMapping()
	rev.Index = false
	stored := bleve.NewTextFieldMapping() // kept, not searched
	stored.Index = false
	stored.Store = true
	stored.IncludeInAll = false
	stored.IncludeTermVectors = false

	dm := bleve.NewDocumentStaticMapping()
	for _, f := range textFields {
		dm.AddFieldMappingsAt(f.name, text())
	}
	dm.AddFieldMappingsAt(fTemplate, keyword)
	dm.AddFieldMappingsAt(fSeries, keyword)
	dm.AddFieldMappingsAt(fPeople, keyword)
	dm.AddFieldMappingsAt(fDate, date)
	dm.AddFieldMappingsAt(fRev, rev)
	dm.AddFieldMappingsAt(fLedger, stored)
	im.DefaultMapping = dm
	im.DefaultAnalyzer = textAnalyzer
	return im, nil
}

// Bleve is an Index (and a Backend) on bleve. It is safe for concurrent use.
type Bleve struct {
	idx     bleve.Index
	mapping *mapping.IndexMappingImpl
	fresh   bool
}

var _ Backend = (*Bleve)(nil)

// OpenBleve opens the index in dir, creating it when dir is missing, and
// deleting and recreating it when it cannot be opened or was built with
// another MappingVersion. An empty dir keeps the index in memory. Fresh
// reports whether the index starts empty and so must be rebuilt from the
// store (the Indexer does so).
func OpenBleve(dir string) (*Bleve, error) {
	im, err := buildMapping()
	if err != nil {
		return nil, fmt.Errorf("search: mapping: %w", err)
	}
	b := &Bleve{mapping: im}
	if dir == "" {
		if b.idx, err = bleve.NewMemOnly(im); err != nil {
			return nil, fmt.Errorf("search: new index: %w", err)
		}
		b.fresh = true
		return b, b.stamp()
	}
	if _, err := os.Stat(dir); err == nil {
		idx, err := bleve.Open(dir)
		if err == nil {
			v, err := idx.GetInternal(keyVersion)
			if err == nil && string(v) == MappingVersion {
				b.idx = idx
				return b, nil
			}
			idx.Close()
		}
		// Unreadable or outdated: start again from the store.
		if err := os.RemoveAll(dir); err != nil {
			return nil, fmt.Errorf("search: remove outdated index: %w", err)
		}
	}
	if b.idx, err = bleve.New(dir, im); err != nil {
		return nil, fmt.Errorf("search: new index in %s: %w", dir, err)
	}
	b.fresh = true
	return b, b.stamp()
}

func (b *Bleve) stamp() error {
	if err := b.idx.SetInternal(keyVersion, []byte(MappingVersion)); err != nil {
		b.idx.Close()
		return fmt.Errorf("search: stamp index: %w", err)
	}
	return nil
}

// Fresh reports whether the index was created empty by OpenBleve.
func (b *Bleve) Fresh() bool { return b.fresh }

// Close closes the index.
func (b *Bleve) Close() error { return b.idx.Close() }

// DocCount returns how many notes are indexed.
func (b *Bleve) DocCount() (uint64, error) { return b.idx.DocCount() }

// bleveDoc is the document bleve indexes for a Doc.
type bleveDoc struct {
	Title     string    `json:"title"`
	Text      string    `json:"text"`
	Decisions []string  `json:"decisions"`
	Actions   []string  `json:"actions"`
	Template  string    `json:"template"`
	Series    string    `json:"series"`
	People    []string  `json:"people"`
	Date      time.Time `json:"date"`
	Rev       float64   `json:"rev"`
	// Ledger is the note's tasks and decisions as JSON (storedLedger),
	// kept for the Ledger to load at the next start; empty when it has
	// neither.
	Ledger string `json:"ledger,omitempty"`
}

// storedLedger is what a note's ledger field holds.
type storedLedger struct {
	Tasks     []Task   `json:"tasks,omitempty"`
	Decisions []string `json:"decisions,omitempty"`
}

func toBleve(d Doc) (bleveDoc, error) {
	bd := bleveDoc{Title: d.Title, Text: d.Text, Decisions: d.Decisions, Actions: d.ActionItems,
		Template: d.Template, Series: d.Series, People: d.People, Date: d.Date.UTC(), Rev: float64(d.Revision)}
	if len(d.Tasks) > 0 || len(d.Decisions) > 0 {
		b, err := json.Marshal(storedLedger{Tasks: d.Tasks, Decisions: d.Decisions})
		if err != nil {
			return bd, err
		}
		bd.Ledger = string(b)
	}
	return bd, nil

}

// Update indexes d; see Index.
func (b *Bleve) Update(ctx context.Context, d Doc) error {
	return b.UpdateBatch(ctx, []Doc{d}, nil)
}

// Delete removes id; see Index.
func (b *Bleve) Delete(ctx context.Context, id scribe.NoteID) error {
	return b.UpdateBatch(ctx, nil, []scribe.NoteID{id})
}

// UpdateBatch indexes docs and deletes ids in one bleve batch.
func (b *Bleve) UpdateBatch(ctx context.Context, docs []Doc, deletes []scribe.NoteID) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	batch := b.idx.NewBatch()
	for _, d := range docs {
		if !d.ID.Valid() {
			return scribe.Errorf(scribe.EINVALID, "The note id is malformed.")
		}
		bd, err := toBleve(d)
		if err != nil {
			return fmt.Errorf("search: index %s: %w", d.ID, err)
		}
		if err := batch.Index(string(d.ID), bd); err != nil {
			return fmt.Errorf("search: index %s: %w", d.ID, err)
		}
	}
	for _, id := range deletes {
		batch.Delete(string(id))
	}
	if err := b.idx.Batch(batch); err != nil {
		return fmt.Errorf("search: update: %w", err)
	}
	return nil
}

// Revision returns the note's indexed revision.
func (b *Bleve) Revision(ctx context.Context, id scribe.NoteID) (scribe.Revision, bool, error) {
	if err := ctx.Err(); err != nil {
		return 0, false, err
	}
	req := bleve.NewSearchRequestOptions(query.NewDocIDQuery([]string{string(id)}), 1, 0, false)
	req.Fields = []string{fRev}
	res, err := b.idx.SearchInContext(ctx, req)
	if err != nil {
		return 0, false, fmt.Errorf("search: revision: %w", err)
	}
	if len(res.Hits) == 0 {
		return 0, false, nil
	}
	r, _ := res.Hits[0].Fields[fRev].(float64)
	return scribe.Revision(r), true, nil
}

// Revisions returns every indexed note's revision, reading the stored
// revisions in pages.
func (b *Bleve) Revisions(ctx context.Context) (map[scribe.NoteID]scribe.Revision, error) {
	out := make(map[scribe.NoteID]scribe.Revision)
	const page = 5000
	var after []string
	for {
		req := bleve.NewSearchRequestOptions(bleve.NewMatchAllQuery(), page, 0, false)
		req.Fields = []string{fRev}
		req.SortBy([]string{"_id"})
		if after != nil {
			req.SearchAfter = after
		}
		res, err := b.idx.SearchInContext(ctx, req)
		if err != nil {
			return nil, fmt.Errorf("search: revisions: %w", err)
		}
		for _, h := range res.Hits {
			r, _ := h.Fields[fRev].(float64)
			out[scribe.NoteID(h.ID)] = scribe.Revision(r)
		}
		if len(res.Hits) < page {
			return out, nil
		}
		after = []string{res.Hits[len(res.Hits)-1].ID}
	}
}

// EachLedger calls fn with the ledger stored with every note that has one,
// reading them in pages.
func (b *Bleve) EachLedger(ctx context.Context, fn func(NoteLedger) error) error {
	const page = 1000
	var after []string
	for {
		req := bleve.NewSearchRequestOptions(bleve.NewMatchAllQuery(), page, 0, false)
		req.Fields = []string{fTitle, fDate, fLedger}
		req.SortBy([]string{"_id"})
		if after != nil {
			req.SearchAfter = after
		}
		res, err := b.idx.SearchInContext(ctx, req)
		if err != nil {
			return fmt.Errorf("search: read ledgers: %w", err)
		}
		for _, h := range res.Hits {
			raw, _ := h.Fields[fLedger].(string)
			if raw == "" {
				continue
			}
			var sl storedLedger
			if err := json.Unmarshal([]byte(raw), &sl); err != nil {
				return fmt.Errorf("search: ledger of %s: %w", h.ID, err)
			}
			n := NoteLedger{ID: scribe.NoteID(h.ID), Tasks: sl.Tasks, Decisions: sl.Decisions}
			n.Title, _ = h.Fields[fTitle].(string)
			if ds, ok := h.Fields[fDate].(string); ok {
				n.Date, _ = time.Parse(time.RFC3339, ds)
			}
			if err := fn(n); err != nil {
				return err
			}
		}
		if len(res.Hits) < page {
			return nil
		}
		after = []string{res.Hits[len(res.Hits)-1].ID}
	}
}

// Cursor returns the feed position stored with the index.
func (b *Bleve) Cursor(ctx context.Context) (scribe.FeedCursor, error) {
	v, err := b.idx.GetInternal(keyCursor)
	if err != nil {
		return "", fmt.Errorf("search: read cursor: %w", err)
	}
	return scribe.FeedCursor(v), nil
}

// SetCursor stores the feed position with the index.
func (b *Bleve) SetCursor(ctx context.Context, c scribe.FeedCursor) error {
	if err := b.idx.SetInternal(keyCursor, []byte(c)); err != nil {
		return fmt.Errorf("search: write cursor: %w", err)
	}
	return nil
}

// Search runs q; see Index.
func (b *Bleve) Search(ctx context.Context, q Query) (Results, error) {
	if err := ctx.Err(); err != nil {
		return Results{}, err
	}
	if len(q.Text) > MaxQueryLen || !utf8.ValidString(q.Text) {
		return Results{}, scribe.Errorf(scribe.EINVALID, "The query must be valid UTF-8 of at most %d bytes.", MaxQueryLen)
	}
	if q.Offset < 0 || q.Offset > MaxOffset || q.Limit < 0 {
		return Results{}, scribe.Errorf(scribe.EINVALID, "The offset must be 0 to %d and the limit not negative.", MaxOffset)
	}
	limit := q.Limit
	if limit == 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)

	var must []query.Query
	textQ, err := b.textQuery(q.Text)
	if err != nil {
		return Results{}, err
	}
	if textQ != nil {
		must = append(must, textQ)
	}
	if q.Template != "" {
		m := query.NewMatchQuery(q.Template)
		m.SetField(fTemplate)
		must = append(must, m)
	}
	if q.Series != "" {
		m := query.NewMatchQuery(q.Series)
		m.SetField(fSeries)
		must = append(must, m)
	}
	if q.Person != "" {
		m := query.NewMatchQuery(strings.TrimPrefix(q.Person, "@"))
		m.SetField(fPeople)
		must = append(must, m)
	}
	if !q.From.IsZero() || !q.To.IsZero() {
		incl, excl := true, false
		d := query.NewDateRangeInclusiveQuery(q.From, q.To, &incl, &excl)
		d.SetField(fDate)
		must = append(must, d)
	}
	var top query.Query = query.NewMatchAllQuery()
	if len(must) > 0 {
		top = query.NewConjunctionQuery(must)
	}
	req := bleve.NewSearchRequestOptions(top, limit, q.Offset, false)
	req.Fields = []string{fTitle, fTemplate, fSeries, fDate}
	if textQ != nil {
		req.SortBy([]string{"-_score", "-" + fDate, "_id"})
		req.Highlight = bleve.NewHighlightWithStyle(html.Name)
		req.Highlight.Fields = []string{fText, fDecisions, fActions}
	} else {
		req.SortBy([]string{"-" + fDate, "_id"})
	}
	res, err := b.idx.SearchInContext(ctx, req)
	if err != nil {
		if ctx.Err() != nil {
			return Results{}, ctx.Err()
		}
		return Results{}, fmt.Errorf("search: %w", err)
	}
	out := Results{Total: res.Total, Hits: make([]Result, 0, len(res.Hits))}
	for _, h := range res.Hits {
		r := Result{ID: scribe.NoteID(h.ID), Score: h.Score}
		r.Title, _ = h.Fields[fTitle].(string)
		r.Template, _ = h.Fields[fTemplate].(string)
		r.Series, _ = h.Fields[fSeries].(string)
		if ds, ok := h.Fields[fDate].(string); ok {
			r.Date, _ = time.Parse(time.RFC3339, ds)
		}
		for _, f := range []string{fDecisions, fActions, fText} {
			r.Snippets = append(r.Snippets, h.Fragments[f]...)
		}
		out.Hits = append(out.Hits, r)
	}
	return out, nil
}

// term is one piece of a query's text.
type term struct {
	text   string
	phrase bool // "quoted"
	prefix bool // the last word, still being typed
}

// parseQuery splits text into words and "quoted phrases". The last word is
// a prefix unless the text ends with a space or a closing quote.
func parseQuery(text string) []term {
	var out []term
	rest := text
	for {
		rest = strings.TrimLeftFunc(rest, unicode.IsSpace)
		if rest == "" {
			break
		}
		if rest[0] == '"' {
			body, after, closed := strings.Cut(rest[1:], `"`)
			if strings.TrimSpace(body) != "" {
				out = append(out, term{text: body, phrase: true})
			}
			if !closed {
				break
			}
			rest = after
			continue
		}
		end := strings.IndexFunc(rest, func(r rune) bool { return unicode.IsSpace(r) || r == '"' })
		if end < 0 {
			end = len(rest)
		}
		out = append(out, term{text: rest[:end]})
		rest = rest[end:]
	}
	if n := len(out); n > 0 && !out[n-1].phrase && !strings.ContainsFunc(text[len(text)-1:], unicode.IsSpace) {
		out[n-1].prefix = true
	}
	return out
}

// textQuery builds the query for the typed text: every word or phrase must
// match in some field (title, decisions, action items, text, in falling
// weight); nil for a text with no words.
func (b *Bleve) textQuery(text string) (query.Query, error) {
	an := b.mapping.AnalyzerNamed(textAnalyzer)
	if an == nil {
		return nil, errors.New("search: text analyzer missing")
	}
	var must []query.Query
	for _, t := range parseQuery(text) {
		if len(an.Analyze([]byte(t.text))) == 0 {
			continue // punctuation or emoji alone: nothing to match
		}
		var any []query.Query
		for _, f := range textFields {
			q, err := b.fieldQuery(t, f.name, f.boost)
			if err != nil {
				return nil, err
			}
			if q != nil {
				any = append(any, q)
			}
		}
		if len(any) > 0 {
			must = append(must, query.NewDisjunctionQuery(any))
		}
	}
	if len(must) == 0 {
		return nil, nil
	}
	return query.NewConjunctionQuery(must), nil
}

// fieldQuery matches one term in one field; nil when the term has no
// tokens (punctuation, emoji).
func (b *Bleve) fieldQuery(t term, field string, boost float64) (query.Query, error) {
	switch {
	case t.phrase:
		q := query.NewMatchPhraseQuery(t.text)
		q.SetField(field)
		q.SetBoost(boost)
		return q, nil
	case t.prefix:
		an := b.mapping.AnalyzerNamed(textAnalyzer)
		if an == nil {
			return nil, errors.New("search: text analyzer missing")
		}
		toks := an.Analyze([]byte(t.text))
		if len(toks) == 0 {
			return nil, nil
		}
		var all []query.Query
		for i, tok := range toks {
			var q query.Query
			if i == len(toks)-1 {
				p := query.NewPrefixQuery(string(tok.Term))
				p.SetField(field)
				p.SetBoost(boost)
				q = p
			} else {
				tq := query.NewTermQuery(string(tok.Term))
				tq.SetField(field)
				tq.SetBoost(boost)
				q = tq
			}
			all = append(all, q)
		}
		if len(all) == 1 {
			return all[0], nil
		}
		return query.NewConjunctionQuery(all), nil
	default:
		q := query.NewMatchQuery(t.text)
		q.SetField(field)
		q.SetBoost(boost)
		q.SetOperator(query.MatchQueryOperatorAnd)
		return q, nil
	}
}
