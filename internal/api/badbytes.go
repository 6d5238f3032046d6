package api

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// maxScannedBody bounds how much of a body is read to look for bad bytes.
// Every operation refuses bodies above maxRequestBody, so a longer body is
// passed on unscanned to be refused there.
const maxScannedBody = maxRequestBody

// maxIdempotencyKey is the documented length limit of Idempotency-Key.
const maxIdempotencyKey = 255

// checkBytes refuses, before anything is decoded, text the service cannot
// store faithfully: invalid UTF-8 (encoding/json would silently replace it
// with U+FFFD) and NUL (PostgreSQL refuses it in text; SQLite keeps it), in
// the JSON body, the query and the path. Doing it here gives both databases
// the same 422 naming the field. The common case costs one utf8.Valid and
// two bytes.Contains over the body; the path of the bad string is only
// worked out when something is wrong.
func (s *Server) checkBytes(w http.ResponseWriter, r *http.Request) bool {
	if k := r.Header.Get("Idempotency-Key"); k != "" && !printableASCII(k, maxIdempotencyKey) {
		writeBadField(w, "header.Idempotency-Key", "must be 1 to 255 printable ASCII characters")
		return false
	}
	if loc := badPathOrQuery(s.mux, r); loc != "" {
		writeBadField(w, loc, "must be valid UTF-8 without NUL characters")
		return false
	}
	if r.Body == nil || r.Body == http.NoBody {
		return true
	}
	head, err := io.ReadAll(io.LimitReader(r.Body, maxScannedBody+1))
	if err != nil {
		writeProblem(w, newProblem(http.StatusBadRequest, "could not read the request body"))
		return false
	}
	r.Body = readCloser{io.MultiReader(bytes.NewReader(head), r.Body), r.Body}
	if len(head) > maxScannedBody || cleanText(head) {
		return true
	}
	if loc, msg := badJSONString(head); loc != "" {
		writeBadField(w, loc, msg)
		return false
	}
	return true
}

type readCloser struct {
	io.Reader
	io.Closer
}

// cleanText is the hot path: no invalid UTF-8, no raw NUL, no \u0000 and
// no escape that could be half a surrogate pair (\uD800 to \uDFFF, which
// encoding/json turns into U+FFFD when the other half is missing). A body
// with a well-formed pair fails this quick test and is scanned properly.
func cleanText(b []byte) bool {
	return utf8.Valid(b) && bytes.IndexByte(b, 0) < 0 && !bytes.Contains(b, []byte(`\u0000`)) &&
		!bytes.Contains(b, []byte(`\ud`)) && !bytes.Contains(b, []byte(`\uD`))
}

func printableASCII(s string, max int) bool {
	if len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

func badText(s string) bool { return !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 }

// badPathOrQuery names the first query or path parameter holding bad bytes.
func badPathOrQuery(mux *http.ServeMux, r *http.Request) string {
	if strings.IndexByte(r.URL.RawQuery, '%') >= 0 || badText(r.URL.RawQuery) {
		for k, vs := range r.URL.Query() {
			if badText(k) {
				return "query"
			}
			for _, v := range vs {
				if badText(v) {
					return "query." + k
				}
			}
		}
	}
	if !badText(r.URL.Path) {
		return ""
	}
	// Only now is the route looked up, to name the parameter.
	_, pattern := mux.Handler(r)
	if i := strings.IndexByte(pattern, '/'); i >= 0 {
		segs, pats := strings.Split(r.URL.Path, "/"), strings.Split(pattern[i:], "/")
		for j := range segs {
			if j < len(pats) && badText(segs[j]) && strings.HasPrefix(pats[j], "{") {
				return "path." + strings.Trim(pats[j], "{}.")
			}
		}
	}
	return "path"
}

func writeBadField(w http.ResponseWriter, loc, msg string) {
	p := newProblem(http.StatusUnprocessableEntity, "validation failed: "+loc+" "+msg)
	p.Errors = []ProblemField{{Location: loc, Message: msg}}
	writeProblem(w, p)
}

// jsonFrame is one open object or array while scanning.
type jsonFrame struct {
	array  bool
	index  int
	key    string
	hasKey bool // an object whose next string is a value, not a key
}

// badJSONString scans raw JSON for a string holding invalid UTF-8, a raw NUL,
// a \u0000 escape or a lone surrogate escape, and returns its location
// (body.a.b[2].c). A string used as an object key is named by the object it
// is in. Malformed JSON is left to the decoder ("" returned) unless the bad
// bytes are outside any string, which is reported as "body".
func badJSONString(b []byte) (loc, msg string) {
	var stack []jsonFrame
	path := func(key bool) string {
		var sb strings.Builder
		sb.WriteString("body")
		for i, f := range stack {
			if f.array {
				sb.WriteString("[" + strconv.Itoa(f.index) + "]")
			} else if f.hasKey && (!key || i < len(stack)-1) {
				sb.WriteString("." + f.key)
			}
		}
		return sb.String()
	}
	for i := 0; i < len(b); {
		c := b[i]
		switch c {
		case '{':
			stack = append(stack, jsonFrame{})
		case '[':
			stack = append(stack, jsonFrame{array: true})
		case '}', ']':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case ',':
			if n := len(stack); n > 0 {
				if stack[n-1].array {
					stack[n-1].index++
				} else {
					stack[n-1].hasKey = false
				}
			}
		case '"':
			isKey := len(stack) > 0 && !stack[len(stack)-1].array && !stack[len(stack)-1].hasKey
			end, bad := scanString(b, i+1)
			if bad != "" {
				return path(isKey), bad
			}
			if isKey {
				stack[len(stack)-1].key = string(b[i+1 : end])
				stack[len(stack)-1].hasKey = true
			}
			i = end + 1
			continue
		default:
			if c == 0 || c >= utf8.RuneSelf {
				return "body", "must be valid UTF-8 without NUL characters"
			}
		}
		i++
	}
	return "", ""
}

// hex4 reads the four hex digits of a \u escape.
func hex4(b []byte) (rune, bool) {
	var r rune
	for _, c := range b {
		switch {
		case '0' <= c && c <= '9':
			r = r<<4 | rune(c-'0')
		case 'a' <= c && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case 'A' <= c && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// scanString reads a JSON string starting after its opening quote and
// returns the index of its closing quote and what is wrong with it, if
// anything.
func scanString(b []byte, i int) (end int, bad string) {
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			return i, ""
		case c == '\\':
			if i+5 < len(b) && b[i+1] == 'u' {
				r, ok := hex4(b[i+2 : i+6])
				switch {
				case !ok:
					// Malformed: the decoder's 400 says so.
				case r == 0:
					return i, "must not contain NUL characters"
				case utf16.IsSurrogate(r):
					// Only a high half followed by a low half is a character.
					if r >= 0xdc00 || i+11 >= len(b) || b[i+6] != '\\' || b[i+7] != 'u' {
						return i, "must be valid UTF-16: a lone surrogate escape has no character"
					}
					if lo, ok := hex4(b[i+8 : i+12]); !ok || lo < 0xdc00 || lo > 0xdfff {
						return i, "must be valid UTF-16: a lone surrogate escape has no character"
					}
					i += 12
					continue
				}
				i += 6
				continue
			}
			i += 2
		case c == 0:
			return i, "must not contain NUL characters"
		case c < utf8.RuneSelf:
			i++
		default:
			r, n := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && n <= 1 {
				return i, "must be valid UTF-8"
			}
			i += n
		}
	}
	return i, ""
}
