package quotepage

import (
	"bytes"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
)

var placeholder = regexp.MustCompile(`\{[a-z_]+\}`)

// A language in the catalogue says everything English says, with the same
// placeholders, and a regional variant only rewords what its language has:
// a missing text would show its key to a customer.
func TestCatalogueIsComplete(t *testing.T) {
	en := catalogue[fallback]
	if len(en) < 30 {
		t.Fatalf("English has %d texts: is messages.json read?", len(en))
	}
	for _, lang := range []string{"en", "pt", "es"} {
		if catalogue[lang] == nil {
			t.Fatalf("no %s in the catalogue", lang)
		}
	}
	for locale, texts := range catalogue {
		lang, region, regional := strings.Cut(locale, "-")
		base := catalogue[lang]
		if regional && (base == nil || len(region) != 2) {
			t.Errorf("%s: a regional variant of no language in the catalogue", locale)
			continue
		}
		for key, text := range texts {
			want, ok := en[key]
			if !ok {
				t.Errorf("%s.%s: a text English does not have", locale, key)
				continue
			}
			if got, exp := placeholders(text), placeholders(want); !slices.Equal(got, exp) {
				t.Errorf("%s.%s has placeholders %v, English %v", locale, key, got, exp)
			}
			if strings.TrimSpace(text) == "" {
				t.Errorf("%s.%s is empty", locale, key)
			}
		}
		if regional {
			continue
		}
		for key := range en {
			if _, ok := texts[key]; !ok {
				t.Errorf("%s has no %s", locale, key)
			}
		}
	}
}

func placeholders(s string) []string {
	p := placeholder.FindAllString(s, -1)
	slices.Sort(p)
	return slices.Compact(p)
}

func TestFormatDate(t *testing.T) {
	at := time.Date(2026, time.March, 5, 1, 30, 0, 0, time.UTC)
	saoPaulo, err := time.LoadLocation("America/Sao_Paulo")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		loc               *time.Location
		language, country string
		want              string
	}{
		{time.UTC, "en", "GB", "5 March 2026"},
		{time.UTC, "en", "US", "March 5, 2026"},
		{time.UTC, "en-US", "", "March 5, 2026"},
		{time.UTC, "pt", "BR", "5 de março de 2026"},
		{time.UTC, "es", "MX", "5 de marzo de 2026"},
		{time.UTC, "de", "DE", "5 March 2026"}, // not in the catalogue: English
		{nil, "", "", "5 March 2026"},
		// The day is the one where the customer is: 01:30 UTC is still
		// the evening before in São Paulo.
		{saoPaulo, "pt", "BR", "4 de março de 2026"},
	} {
		if got := FormatDate(at, c.loc, c.language, c.country); got != c.want {
			t.Errorf("FormatDate(%v, %q, %q) = %q, want %q", c.loc, c.language, c.country, got, c.want)
		}
	}
}

func TestPreferredLanguage(t *testing.T) {
	for header, want := range map[string]string{
		"pt-BR,pt;q=0.9,en;q=0.8": "pt-BR",
		"de-DE,de;q=0.9,es;q=0.5": "es",
		"fr, en;q=0.1, es;q=0.2":  "es",
		"de":                      "",
		"":                        "",
		"es;q=bad, pt;q=0.3":      "pt",
	} {
		if got := preferredLanguage(header); got != want {
			t.Errorf("preferredLanguage(%q) = %q, want %q", header, got, want)
		}
	}
}

// The page holds what the customer reads, escaped: a company name or a
// reason cannot write markup into it.
func TestRenderEscapesWhatTheTenantAndCustomerWrote(t *testing.T) {
	var b bytes.Buffer
	err := Render(&b, Quote{Token: "tok", Company: `<script>alert(1)</script>`, Number: "Q-1", Amount: 10, Currency: "EUR",
		Status: engine.QuoteRejected, RejectionReason: `"><img src=x>`, CustomerName: "</script><b>", Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, bad := range []string{"<script>alert", "<img src=x>", "</script><b>"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page holds %q unescaped", bad)
		}
	}
	if !strings.Contains(page, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("the company's name is not on the page")
	}
}

func TestEveryAssetHasAContentType(t *testing.T) {
	if len(assets) != 3 {
		t.Fatalf("%d assets, want the script, the style sheet and the icon", len(assets))
	}
	for name := range assets {
		w := httptest.NewRecorder()
		if !ServeAsset(w, httptest.NewRequest("GET", AssetPath+name, nil), name) {
			t.Fatalf("%s: not served", name)
		}
		if ct := w.Header().Get("Content-Type"); ct == "" || ct == "application/octet-stream" {
			t.Errorf("%s: content type %q", name, ct)
		}
	}
}
