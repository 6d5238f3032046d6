package api

import (
	"encoding/base64"
	"strings"
	"unicode"

	"github.com/danielgtaylor/huma/v2"

	"github.com/quoteflow/quoteflow/internal/engine"
)

// cursorPrefix starts every cursor this version of the server gives. A
// cursor is opaque to clients: "c1." and the base64url (unpadded) of the
// position, today the last id of the page. The version lets a later
// server change what a cursor holds and still refuse, by name, the ones it
// no longer reads rather than misread them.
const cursorPrefix = "c1."

// maxCursorPosition bounds a decoded position; ids are far shorter.
const maxCursorPosition = 200

// encodeCursor makes the opaque cursor of a position; "" stays "" (the
// last page).
func encodeCursor(pos string) string {
	if pos == "" {
		return ""
	}
	return cursorPrefix + base64.RawURLEncoding.EncodeToString([]byte(pos))
}

// decodeCursor returns the position of a cursor encodeCursor made, and
// false for anything else.
func decodeCursor(c string) (string, bool) {
	rest, ok := strings.CutPrefix(c, cursorPrefix)
	if !ok {
		return "", false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(rest)
	if err != nil || len(b) == 0 || len(b) > maxCursorPosition {
		return "", false
	}
	pos := string(b)
	for _, r := range pos {
		if r > unicode.MaxASCII || !unicode.IsPrint(r) {
			return "", false
		}
	}
	return pos, true
}

// PageParams are a list's cursor parameters.
type PageParams struct {
	Limit  int    `query:"limit" minimum:"1" maximum:"200" default:"50" doc:"How many items at most"`
	Cursor string `query:"cursor" doc:"The next_cursor of the previous page, as given (opaque); anything else is a 422"`

	after string
}

// Resolve implements huma.Resolver: a cursor the server did not give is
// a 422 naming query.cursor, never an empty page that looks like the end.
func (p *PageParams) Resolve(huma.Context) []error {
	if p.Cursor == "" {
		return nil
	}
	pos, ok := decodeCursor(p.Cursor)
	if !ok {
		return []error{&huma.ErrorDetail{Location: "query.cursor", Value: p.Cursor,
			Message: "not a cursor this server gave: pass next_cursor from the previous page unchanged, or leave it out for the first page"}}
	}
	p.after = pos
	return nil
}

func (p PageParams) page() engine.Page { return engine.Page{Limit: p.Limit, After: p.after} }

// List is a page of items and the cursor of the next page, absent on the
// last page. Only paginated lists answer with it; a list that is whole in
// one answer is an Items.
type List[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty" doc:"Opaque; pass it as cursor for the next page. Absent on the last page."`
}

// listOf converts a page of items, encoding next (the store's position
// after the page) as an opaque cursor.
func listOf[S, T any](items []S, next string, conv func(*S) T) List[T] {
	out := List[T]{Items: make([]T, len(items)), NextCursor: encodeCursor(next)}
	for i := range items {
		out.Items[i] = conv(&items[i])
	}
	return out
}

// Items is a list that is always whole in one answer: it has no cursor.
type Items[T any] struct {
	Items []T `json:"items"`
}

// itemsOf converts a whole list.
func itemsOf[S, T any](items []S, conv func(*S) T) Items[T] {
	out := Items[T]{Items: make([]T, len(items))}
	for i := range items {
		out.Items[i] = conv(&items[i])
	}
	return out
}
