package api

import (
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/quoteflow/quoteflow/internal/engine"
)

// entityTag is one entity-tag of an If-Match or If-None-Match list
// (RFC 9110 §8.8.3): its opaque value without the quotes, and whether it
// was weak (W/"...").
type entityTag struct {
	value string
	weak  bool
}

// parseETags reads an If-Match or If-None-Match field value: "*", or a
// comma-separated list of entity-tags. A bare version number (3, without
// quotes) is read as "3": clients written before the header was strict
// send it, and it cannot mean anything else.
func parseETags(v string) (tags []entityTag, star bool, ok bool) {
	v = strings.TrimSpace(v)
	if v == "*" {
		return nil, true, true
	}
	for item := range strings.SplitSeq(v, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue // RFC 9110 §5.6.1: empty list elements are ignored
		}
		t := entityTag{}
		if rest, found := strings.CutPrefix(item, "W/"); found {
			t.weak, item = true, rest
		}
		switch {
		case len(item) >= 2 && item[0] == '"' && item[len(item)-1] == '"':
			t.value = item[1 : len(item)-1]
			if strings.ContainsAny(t.value, "\" ") {
				return nil, false, false
			}
		case !t.weak && isDigits(item):
			t.value = item
		default:
			return nil, false, false
		}
		tags = append(tags, t)
	}
	return tags, false, len(tags) > 0
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// IfMatch is the If-Match header of an edit (RFC 9110 §13.1.1).
type IfMatch struct {
	IfMatch string `header:"If-Match" doc:"The version the edit is based on, as the ETag gave it (\"3\"), a list of them (\"3\", \"4\"), or * for any current version. The comparison is strong: a weak tag (W/\"3\") never matches. A mismatch is 412."`
}

// precondition is the 412 problem of an If-Match that does not hold,
// naming the header.
func precondition(msg string) error {
	return &engine.Error{Code: engine.EPRECONDITION, Message: msg,
		Fields: []engine.FieldError{{Field: "header.If-Match", Message: msg}}}
}

// version returns the version an edit must find, checked atomically by
// the app: 0 when If-Match is absent or "*" (any current version; the
// resource must still exist, which the edit finds out). A single tag is
// that version. For a list, current reads the resource's version now: if
// it is in the list, the edit goes ahead expecting exactly that version,
// so a change in between is still a 412.
//
// RFC 9110 §13.1.1 compares If-Match strongly, so a weak tag never
// matches: the answer is the 412 the RFC prescribes, with a detail that
// says why rather than a bare mismatch. A value that is not an entity-tag
// list matches nothing either, and is a 412 naming the header.
func (m IfMatch) version(current func() (int64, error)) (int64, error) {
	if strings.TrimSpace(m.IfMatch) == "" {
		return 0, nil
	}
	tags, star, ok := parseETags(m.IfMatch)
	switch {
	case !ok:
		return 0, precondition(`If-Match must be *, or a list of entity-tags such as "3" or "3", "4"`)
	case star:
		return 0, nil
	}
	var want []int64
	for _, t := range tags {
		if t.weak {
			return 0, precondition(`weak entity-tags (W/"...") are not accepted in If-Match: it uses strong comparison (RFC 9110 §13.1.1); send the ETag as given, "3"`)
		}
		// Strong comparison is of the characters: "03" is not the "3"
		// this server gave, so only the canonical number is a version.
		n, err := strconv.ParseInt(t.value, 10, 64)
		if err != nil || n < 1 || strconv.FormatInt(n, 10) != t.value {
			return 0, precondition(`If-Match names a version this server never gave: entity-tags are version numbers such as "3"`)
		}
		want = append(want, n)
	}
	if len(want) == 1 {
		return want[0], nil
	}
	cur, err := current()
	if err != nil {
		return 0, err
	}
	for _, n := range want {
		if n == cur {
			return cur, nil
		}
	}
	return 0, engine.Errorf(engine.EPRECONDITION, "the current version %d is not one of If-Match's", cur)
}

// noneMatch reports whether an If-None-Match value matches etag with the
// weak comparison RFC 9110 §13.1.2 prescribes: "*" matches any current
// representation, and W/"3" matches "3". A malformed value matches
// nothing, so the full answer is sent.
func noneMatch(v, etag string) bool {
	tags, star, ok := parseETags(v)
	if !ok || etag == "" {
		return false
	}
	if star {
		return true
	}
	cur, _, _ := parseETags(etag)
	if len(cur) != 1 {
		return false
	}
	for _, t := range tags {
		if t.value == cur[0].value {
			return true
		}
	}
	return false
}

// notModified answers a read with 304 when its If-None-Match matches the
// ETag the answer would carry. The handler runs as usual (the read must
// happen to know the current ETag); only what is written changes: the
// status becomes 304 and the body is dropped (RFC 9110 §15.4.5), while the
// ETag and the other headers stay.
type notModified struct {
	humaContext
	ifNoneMatch string
	etag        string
	contentType string // held until the status is known: a 304 has no content
	hit         bool
}

func (n *notModified) SetHeader(name, value string) {
	switch {
	case strings.EqualFold(name, "ETag"):
		n.etag = value
	case strings.EqualFold(name, "Content-Type"):
		n.contentType = value
		return
	}
	n.humaContext.SetHeader(name, value)
}

func (n *notModified) SetStatus(code int) {
	if code == http.StatusOK && noneMatch(n.ifNoneMatch, n.etag) {
		n.hit, code = true, http.StatusNotModified
	}
	if n.contentType != "" && !n.hit {
		n.humaContext.SetHeader("Content-Type", n.contentType)
	}
	n.humaContext.SetStatus(code)
}

func (n *notModified) BodyWriter() io.Writer {
	if n.hit {
		return io.Discard
	}
	return n.humaContext.BodyWriter()
}

// withConditionalRead applies If-None-Match to the reads of single
// resources (every GET whose answer carries an ETag).
func (s *Server) withConditionalRead(ctx huma.Context, next func(huma.Context)) {
	inm := ctx.Header("If-None-Match")
	if inm == "" || ctx.Method() != http.MethodGet {
		next(ctx)
		return
	}
	next(&notModified{humaContext: ctx, ifNoneMatch: inm})
}
