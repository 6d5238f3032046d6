package docsui

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"regexp"
	"strings"
	"testing"
)

// The embedded files are the ones vendor.sh copied: their sha256 is the
// one VERSION records, and VERSION names the version vendor.sh pins.
func TestVendoredFilesAreThoseVERSIONRecords(t *testing.T) {
	raw, err := os.ReadFile("VERSION")
	if err != nil {
		t.Fatal(err)
	}
	script, err := os.ReadFile("vendor.sh")
	if err != nil {
		t.Fatal(err)
	}
	recorded := map[string]string{}
	var version string
	for line := range strings.Lines(string(raw)) {
		f := strings.Fields(line)
		switch {
		case len(f) == 3 && f[0] == "sha256":
			recorded[f[2]] = f[1]
		case len(f) == 2 && f[0] == "version":
			version = f[1]
		}
	}
	if version == "" || !strings.Contains(string(script), "\nversion="+version+"\n") {
		t.Errorf("VERSION names version %q, which vendor.sh does not pin", version)
	}
	if len(recorded) != len(files) {
		t.Errorf("VERSION records %d files, %d are embedded", len(recorded), len(files))
	}
	for name := range files {
		body, err := assetFS.ReadFile("assets/" + name)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(body)
		if got := hex.EncodeToString(sum[:]); recorded[name] != got {
			t.Errorf("%s: sha256 %s, VERSION records %q: run internal/api/docsui/vendor.sh", name, got, recorded[name])
		}
	}
	if _, ok := files[Script]; !ok {
		t.Fatalf("no %s embedded", Script)
	}
}

// The page names nothing outside this server, and turns off the one
// download RapiDoc makes by default (its web font).
func TestPageNamesNoOtherOrigin(t *testing.T) {
	page := string(Page())
	if strings.Contains(page, "://") || strings.Contains(page, `="//`) {
		t.Errorf("the page names another origin:\n%s", page)
	}
	for _, want := range []string{`load-fonts="false"`, `spec-url="openapi.json"`, `src="docs/` + Script + `?v=`} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %s:\n%s", want, page)
		}
	}
}

// knownAddresses are the absolute addresses the vendored renderer's
// file names, and why none is a request the page makes. A new version
// that names another fails here until someone has read what it does with
// it.
var knownAddresses = map[string]string{
	"https://fonts.gstatic.com": "the Open Sans web font, loaded only unless load-fonts is \"false\", which the page sets",
	"https://swagger.io":        "a base to resolve relative references against (swagger-client); never fetched",
	"https://vladimirgorej.com": "a base to check that a server URL parses (apidom); never fetched",
	"http://localhost":          "the server shown when the page is not served over http; this page always is",
	"http://example.com":        "an example value of a uri-formatted field",
	"https://spec.openapis.org": "the OpenAPI 3.1 JSON Schema dialect's identifier",
	"https://github.com":        "license and warning texts",
	"https://marked.js.org":     "a deprecation warning's text",
}

var address = regexp.MustCompile(`https?://[A-Za-z0-9.-]+`)

func TestTheRendererNamesOnlyKnownAddresses(t *testing.T) {
	seen := map[string]bool{}
	body, err := assetFS.ReadFile("assets/" + Script)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range address.FindAllString(string(body), -1) {
		seen[a] = true
		if _, ok := knownAddresses[a]; !ok {
			t.Errorf("%s names %s: read what it loads from there, then list it here or configure it off", Script, a)
		}
	}
	for a := range knownAddresses {
		if !seen[a] {
			t.Errorf("%s no longer names %s: take it off the list", Script, a)
		}
	}
}
