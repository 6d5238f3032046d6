package api

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/quoteflow/quoteflow/internal/engine"
)

// FuzzBearer reads arbitrary Authorization headers: a token read has no
// surrounding blanks and is read again the same from its canonical header
// "Bearer <token>", in any case of the scheme; a header refused does not
// start with the Bearer scheme and a space.
func FuzzBearer(f *testing.F) {
	for _, s := range []string{"Bearer qf_0190_abc", "bearer  qf_x ", "Basic dXNlcjpwYXNz", "Bearer", "Bearer ", " BEARER\tx", "Bearerqf_x", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		tok, ok := bearer(header)
		if !ok {
			if tok != "" {
				t.Fatalf("bearer(%q) refused but returned %q", header, tok)
			}
			h := strings.TrimSpace(header)
			if len(h) > 7 && strings.EqualFold(h[:7], "Bearer ") {
				t.Fatalf("bearer(%q) refuses a Bearer header", header)
			}
			return
		}
		if tok != strings.TrimSpace(tok) {
			t.Fatalf("bearer(%q) = %q, with blanks around it", header, tok)
		}
		for _, canon := range []string{"Bearer " + tok, "bearer " + tok, "BEARER " + tok} {
			if again, ok := bearer(canon); !ok || again != tok {
				t.Fatalf("bearer(%q) = %q, but bearer(%q) = %q, %v", header, tok, canon, again, ok)
			}
		}
	})
}

// formatETags writes entity-tags the canonical way: quoted, weak ones with
// W/, separated by ", ".
func formatETags(tags []entityTag) string {
	parts := make([]string, len(tags))
	for i, t := range tags {
		parts[i] = `"` + t.value + `"`
		if t.weak {
			parts[i] = "W/" + parts[i]
		}
	}
	return strings.Join(parts, ", ")
}

// FuzzIfMatch reads arbitrary If-Match values against a current version.
// A list read writes back canonically and reads the same; every refusal is
// a 412 (EPRECONDITION), and one that says the header is malformed names
// header.If-Match; a version the edit goes ahead with is one the header
// listed (or 0 for an absent header or *), and is then also a match for
// If-None-Match's weaker comparison.
func FuzzIfMatch(f *testing.F) {
	for _, s := range []string{`"3"`, `"3", "4"`, `W/"3"`, `3`, `*`, ` , "3",, `, `"3`, `""`, `"a b"`, `W/3`, `"0"`, `"-1"`, `"99999999999999999999"`, `"3"x`} {
		f.Add(s, int64(3))
	}
	f.Fuzz(func(t *testing.T, v string, cur int64) {
		tags, star, ok := parseETags(v)
		if ok && !star {
			if len(tags) == 0 {
				t.Fatalf("parseETags(%q) accepted an empty list", v)
			}
			canon := formatETags(tags)
			again, star2, ok2 := parseETags(canon)
			if !ok2 || star2 || len(again) != len(tags) {
				t.Fatalf("parseETags(%q) = %v, but its canonical form %q reads as %v, %v", v, tags, canon, again, ok2)
			}
			for i := range tags {
				if again[i] != tags[i] {
					t.Fatalf("parseETags(%q) = %v, but its canonical form %q reads as %v", v, tags, canon, again)
				}
			}
		}

		n, err := IfMatch{IfMatch: v}.version(func() (int64, error) { return cur, nil })
		if err != nil {
			var e *engine.Error
			if !errors.As(err, &e) || e.Code != engine.EPRECONDITION {
				t.Fatalf("If-Match %q: error %#v is not a precondition failure", v, err)
			}
			if !ok && (len(e.Fields) != 1 || e.Fields[0].Field != "header.If-Match") {
				t.Fatalf("If-Match %q is malformed, but the error names %+v", v, e.Fields)
			}
			return
		}
		if !ok || star {
			if n != 0 || (!star && strings.TrimSpace(v) != "") {
				t.Fatalf("If-Match %q (star %v, ok %v) gives version %d", v, star, ok, n)
			}
			return
		}
		listed := false
		for _, tag := range tags {
			listed = listed || tag.value == strconv.FormatInt(n, 10) && !tag.weak
		}
		if n < 1 || !listed {
			t.Fatalf("If-Match %q gives version %d, which it does not list", v, n)
		}
		if len(tags) > 1 && n != cur {
			t.Fatalf("If-Match %q with current version %d gives %d", v, cur, n)
		}
		if !noneMatch(v, `"`+strconv.FormatInt(n, 10)+`"`) {
			t.Fatalf("If-Match %q matches version %d strongly, but If-None-Match does not match it", v, n)
		}
	})
}

// TestIfMatchComparesVersionsAsGiven: "01" and "+1" are not the "1" this
// server gave, and strong comparison is of the characters, so they are
// refused; they used to be read as version 1 (found by FuzzIfMatch).
func TestIfMatchComparesVersionsAsGiven(t *testing.T) {
	for _, v := range []string{`"01"`, `01`, `"+1"`, `"1", "02"`} {
		n, err := IfMatch{IfMatch: v}.version(func() (int64, error) { return 1, nil })
		if engine.ErrorCode(err) != engine.EPRECONDITION {
			t.Errorf("If-Match %s: version %d, %v; want a precondition failure", v, n, err)
		}
	}
	if n, err := (IfMatch{IfMatch: `"1"`}).version(nil); err != nil || n != 1 {
		t.Fatalf(`If-Match "1": %d, %v`, n, err)
	}
}
