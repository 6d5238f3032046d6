package archtest

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// The project's docs live in the repository and link only inside it: a
// reader with a clone has every page a link names. This test reads every
// markdown file (outside node_modules) and checks each link written as
// [text](target) outside code: no scheme (http, https, mailto...), no path
// that leaves the repository, and the file (and, for a heading anchor, the
// heading) exists.
var mdLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

func TestDocsLinkOnlyInsideTheRepository(t *testing.T) {
	_, here, _, _ := runtime.Caller(0)
	root, err := filepath.Abs(filepath.Join(filepath.Dir(here), "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	var pages []string
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || d.Name() == ".git") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(p, ".md") {
			pages = append(pages, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) < 5 {
		t.Fatalf("found only %d markdown files under %s: is the walk looking in the right place?", len(pages), root)
	}
	links := 0
	for _, page := range pages {
		body, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, page)
		for _, target := range linksOutsideCode(string(body)) {
			links++
			if msg := checkLink(root, page, target); msg != "" {
				t.Errorf("%s: link %q %s", rel, target, msg)
			}
		}
	}
	if links == 0 {
		t.Fatal("no links found in any markdown file: the link pattern is broken")
	}
}

// linksOutsideCode returns the targets of [text](target) links, leaving
// out fenced code blocks and inline code spans, where brackets are code.
func linksOutsideCode(md string) []string {
	var out []string
	fenced := false
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			fenced = !fenced
			continue
		}
		if fenced {
			continue
		}
		parts := strings.Split(line, "`")
		for i := 0; i < len(parts); i += 2 { // even parts are outside code spans
			for _, m := range mdLink.FindAllStringSubmatch(parts[i], -1) {
				out = append(out, m[1])
			}
		}
	}
	return out
}

var scheme = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*:`)

func checkLink(root, page, target string) string {
	if scheme.MatchString(target) {
		return "leaves the repository (the docs link only to files in it)"
	}
	path, anchor, _ := strings.Cut(target, "#")
	file := page
	if path != "" {
		file = filepath.Clean(filepath.Join(filepath.Dir(page), filepath.FromSlash(path)))
		if r, err := filepath.Rel(root, file); err != nil || strings.HasPrefix(r, "..") {
			return "points outside the repository"
		}
		if _, err := os.Stat(file); err != nil {
			return "names a file that does not exist"
		}
	}
	if anchor != "" && strings.HasSuffix(file, ".md") {
		body, err := os.ReadFile(file)
		if err != nil {
			return "names a page that cannot be read"
		}
		if !hasHeading(string(body), anchor) {
			return "names a heading that the page does not have"
		}
	}
	return ""
}

// hasHeading reports whether md has a heading whose anchor, as markdown
// renderers make it (lower case, punctuation dropped, spaces to hyphens),
// is anchor.
func hasHeading(md, anchor string) bool {
	for _, line := range strings.Split(md, "\n") {
		if !strings.HasPrefix(line, "#") {
			continue
		}
		text := strings.TrimSpace(strings.TrimLeft(line, "#"))
		var b strings.Builder
		for _, r := range strings.ToLower(text) {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r > 127:
				b.WriteRune(r)
			}
		}
		if b.String() == anchor {
			return true
		}
	}
	return false
}
