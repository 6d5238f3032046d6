package api

import "testing"

func TestPrefersHTML(t *testing.T) {
	for accept, want := range map[string]bool{
		// Browsers.
		"text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8": true,
		"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8":                       true,
		"application/xhtml+xml": true,
		"text/*":                true,
		// JSON clients, and whoever does not say.
		"":                                  false,
		"*/*":                               false,
		"application/json":                  false,
		"application/json, text/html":       false, // a tie is JSON, as before the page
		"text/html;q=0.5, application/json": false,
		"text/html, */*;q=0.1, application/json;q=0": true,
		"text/html;q=0": false,
		"text/html;q=2": false, // not a quality: ignored
		"text/plain":    false,
		"garbage;;;":    false,
	} {
		if got := prefersHTML(accept); got != want {
			t.Errorf("prefersHTML(%q) = %v, want %v", accept, got, want)
		}
	}
}
