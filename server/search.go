package server

import (
	"net/http"
	"net/url"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/search"
)

// Search (GET /api/search) answers members and the local person only: it is
// the "list" action of scribe.Role.Can, like the note list, since a result
// names a note's id, which is its edit link.

// searchPage is one page of search results as the API returns it.
type searchPage struct {
	Total uint64          `json:"total"` // matching notes in all
	Page  int             `json:"page"`
	Limit int             `json:"limit"`
	Hits  []search.Result `json:"hits"`
}

// handleSearch is GET /api/search?q=&template=&person=&from=&to=&page=&limit=.
func (s *Server) handleSearch(w http.ResponseWriter, r *http.Request) {
	if err := s.may(r, scribe.ActList); err != nil {
		s.writeError(w, r, err)
		return
	}
	if s.search == nil {
		s.writeError(w, r, scribe.Errorf(scribe.EUNAVAILABLE, "Search is not configured on this server."))
		return
	}
	q, page, err := searchQuery(r.URL.Query(), s.loc)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	res, err := s.search.Search(r.Context(), q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if res.Hits == nil {
		res.Hits = []search.Result{}
	}
	writeJSON(w, http.StatusOK, searchPage{Total: res.Total, Page: page, Limit: q.Limit, Hits: res.Hits})
}

// searchQuery reads a search request's parameters: q (at most
// search.MaxQueryLen bytes), template, series, person, from and to (dates,
// YYYY-MM-DD in the team's time zone, both inclusive, or RFC 3339 times),
// page (from 1) and limit (1 to search.MaxLimit, default
// search.DefaultLimit), with (page-1)×limit at most search.MaxOffset.
func searchQuery(v url.Values, loc *time.Location) (search.Query, int, error) {
	q := search.Query{Text: v.Get("q"), Template: v.Get("template"), Series: v.Get("series"), Person: v.Get("person"), Limit: search.DefaultLimit}
	if len(q.Text) > search.MaxQueryLen || !utf8.ValidString(q.Text) {
		return q, 0, invalid("q must be valid UTF-8 of at most %d bytes.", search.MaxQueryLen)
	}
	if len(q.Template) > 100 || len(q.Person) > scribe.MaxEmail || !utf8.ValidString(q.Template) || !utf8.ValidString(q.Person) {
		return q, 0, invalid("template and person must be valid UTF-8 of at most 100 and %d bytes.", scribe.MaxEmail)
	}
	if !scribe.ValidSeries(q.Series) {
		return q, 0, invalid("series must be valid UTF-8 of at most %d bytes.", scribe.MaxSeries)
	}
	var err error
	if q.From, err = searchDate(v.Get("from"), loc, false); err != nil {
		return q, 0, err
	}
	if q.To, err = searchDate(v.Get("to"), loc, true); err != nil {
		return q, 0, err
	}
	page, err := paging(v, &q.Limit, search.MaxLimit)
	q.Offset = (page - 1) * q.Limit
	return q, page, err
}

// paging reads page (from 1) and limit (1 to most; *limit holds the
// default and gets the result), with (page-1)×limit at most
// search.MaxOffset.
func paging(v url.Values, limit *int, most int) (int, error) {
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > most {
			return 0, invalid("limit must be a number from 1 to %d.", most)
		}
		*limit = n
	}
	page := 1
	if s := v.Get("page"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || (n-1) > search.MaxOffset/(*limit) {
			return 0, invalid("page must be a number from 1 to %d at this limit.", search.MaxOffset/(*limit)+1)
		}
		page = n
	}
	return page, nil
}

// searchDate parses from or to: a date (the whole day, in loc; to is
// inclusive, so the query's exclusive bound is the next midnight) or an
// RFC 3339 time.
func searchDate(s string, loc *time.Location, end bool) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if len(s) > 40 {
		return time.Time{}, invalid("from and to are dates, YYYY-MM-DD, or RFC 3339 times.")
	}
	if d, err := time.ParseInLocation(time.DateOnly, s, loc); err == nil {
		if end {
			d = d.AddDate(0, 0, 1)
		}
		return d, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, invalid("from and to are dates, YYYY-MM-DD, or RFC 3339 times.")
	}
	return t, nil
}
