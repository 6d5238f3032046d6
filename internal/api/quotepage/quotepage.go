// Package quotepage renders the customer's quote page: the HTML a person
// gets from the quote's public link, written in the lead's language, with
// money and dates in the lead's locale, and the script and style sheet it
// loads from the same server. It reads nothing and records nothing; the
// API layer gives it a Quote and serves what it renders.
package quotepage

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/static"
)

// CSP is the Content-Security-Policy of the page: everything from this
// server only, nothing inline, no frames of it elsewhere.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

//go:embed messages.json
var messagesJSON []byte

//go:embed page.html.tmpl
var pageTemplate string

//go:embed assets
var assetFS embed.FS

// catalogue is every text of the page, by locale: a language ("pt") with
// every key, or a language and region ("pt-PT") with the keys it words
// differently.
var catalogue = func() map[string]map[string]string {
	var c map[string]map[string]string
	if err := json.Unmarshal(messagesJSON, &c); err != nil {
		panic("quotepage: messages.json: " + err.Error())
	}
	return c
}()

// fallback is the language of a lead whose language the catalogue does
// not have.
const fallback = "en"

// texts are the messages of one locale, placeholders not yet filled.
type texts struct {
	lang, region string
	get          func(key string) string
}

// textsFor returns the catalogue's texts for a lead's language and
// country: the language's region first, then the language, then English.
func textsFor(language, country string) texts {
	lang, region := engine.CustomerLocale(language, country)
	if _, ok := catalogue[lang]; !ok {
		lang, region = fallback, ""
	}
	chain := []map[string]string{catalogue[lang+"-"+region], catalogue[lang], catalogue[fallback]}
	return texts{lang: lang, region: region, get: func(key string) string {
		for _, m := range chain {
			if v, ok := m[key]; ok {
				return v
			}
		}
		return key // a missing key shows itself; TestCatalogueIsComplete prevents it
	}}
}

// htmlLang is the page's <html lang>: the language and, when known, the
// region ("pt-BR").
func (t texts) htmlLang() string {
	if t.region == "" {
		return t.lang
	}
	return t.lang + "-" + t.region
}

// fill replaces the {name} placeholders of a text.
func fill(s string, args ...string) string {
	return strings.NewReplacer(args...).Replace(s)
}

// FormatDate writes the day of t in loc as the locale of language and
// country writes a date ("5 de março de 2026", "March 5, 2026").
func FormatDate(t time.Time, loc *time.Location, language, country string) string {
	if loc == nil {
		loc = time.UTC
	}
	t = t.In(loc)
	tx := textsFor(language, country)
	return fill(tx.get("date_format"), "{day}", strconv.Itoa(t.Day()),
		"{month}", tx.get("month_"+strconv.Itoa(int(t.Month()))), "{year}", strconv.Itoa(t.Year()))
}

// Quote is what the page shows, as the API read it.
type Quote struct {
	// Token is the quote's public token: the page's own address ends in
	// it, and its script's requests are relative to it.
	Token           string
	Company         string
	CustomerName    string
	Number          string
	Amount          float64
	Currency        string
	Status          engine.QuoteStatus
	ValidUntil      *time.Time
	RejectionReason string
	// Language and Country are the lead's; Location is the zone the
	// page's dates are in.
	Language, Country string
	Location          *time.Location
}

// page is the template's data.
type page struct {
	Lang, Title, Company, Heading, Greeting, Intro string
	AmountLabel, Amount                            string
	ValidLabel, ValidUntil, ValidISO               string
	StatusLabel, StatusText, Status                string
	// Open is true while the customer can still answer: the buttons show.
	Open                                   bool
	State                                  string
	ReasonLabel, Reason                    string
	ActionsLabel, Accept, Reject, Question string
	NoScript                               string
	Base, CSS, JS, Icon                    string
	Script                                 scriptData
}

// scriptData is what the page's script needs, in the page as JSON: the
// texts it shows after an answer, each in the lead's language.
type scriptData struct {
	Status map[string]string `json:"status"`
	State  map[string]string `json:"state"`
	Errors map[string]string `json:"errors"`
	Busy   string            `json:"working"`
	// Details says whether to show a problem's own detail beneath the
	// page's words for it: the API writes its problems in English, and a
	// page in another language shows only its own.
	Details bool `json:"details"`
}

var tmpl = template.Must(template.New("page").Parse(pageTemplate))

// statusText returns the status as the customer reads it: sent and viewed
// are both waiting for them.
func statusText(tx texts, s engine.QuoteStatus) string {
	switch s {
	case engine.QuoteSent, engine.QuoteViewed:
		return tx.get("status_open")
	case engine.QuoteAccepted, engine.QuoteRejected, engine.QuoteExpired, engine.QuoteDraft:
		return tx.get("status_" + string(s))
	}
	return string(s)
}

// Render writes the page of q.
func Render(w io.Writer, q Quote) error {
	tx := textsFor(q.Language, q.Country)
	company := func(s string) string {
		return fill(s, "{company}", q.Company, "{number}", q.Number, "{name}", q.CustomerName)
	}
	p := page{
		Lang: tx.htmlLang(), Title: company(tx.get("page_title")), Company: q.Company, Heading: company(tx.get("title")),
		Intro:       company(tx.get("intro")),
		AmountLabel: tx.get("amount"), Amount: engine.FormatMoneyIn(q.Amount, q.Currency, q.Language, q.Country),
		ValidLabel: tx.get("valid_until"), ValidUntil: tx.get("no_end_date"),
		StatusLabel: tx.get("status"), StatusText: statusText(tx, q.Status), Status: string(q.Status),
		Open:        q.Status == engine.QuoteSent || q.Status == engine.QuoteViewed,
		ReasonLabel: tx.get("your_reason"), ActionsLabel: tx.get("actions"),
		Accept: tx.get("accept"), Reject: tx.get("reject"), Question: tx.get("reason"),
		NoScript: company(tx.get("noscript")),
		// Relative to the page's own address, so that the page works
		// under any path prefix a proxy puts in front of /v1.
		Base: "./" + url.PathEscape(q.Token), CSS: assetURL("quote-page.css"), JS: assetURL("quote-page.js"),
		Icon: assetURL("quote-page.svg"),
	}
	if q.CustomerName != "" {
		p.Greeting = company(tx.get("greeting"))
	}
	if q.ValidUntil != nil {
		p.ValidUntil = FormatDate(*q.ValidUntil, q.Location, q.Language, q.Country)
		p.ValidISO = q.ValidUntil.UTC().Format(time.RFC3339)
	}
	switch q.Status {
	case engine.QuoteAccepted, engine.QuoteRejected, engine.QuoteExpired, engine.QuoteDraft:
		p.State = company(tx.get("state_" + string(q.Status)))
	}
	if q.Status == engine.QuoteRejected {
		p.Reason = q.RejectionReason
	}
	p.Script = scriptData{Status: map[string]string{}, State: map[string]string{}, Errors: map[string]string{}, Busy: tx.get("working"),
		Details: tx.lang == "en"}
	for _, s := range engine.QuoteStatuses {
		p.Script.Status[string(s)] = statusText(tx, s)
	}
	for _, s := range []engine.QuoteStatus{engine.QuoteAccepted, engine.QuoteRejected, engine.QuoteExpired} {
		p.Script.State[string(s)] = company(tx.get("state_" + string(s)))
	}
	for _, k := range []string{"conflict", "not_found", "invalid", "busy", "generic", "network"} {
		p.Script.Errors[k] = tx.get("error_" + k)
	}
	return execute(w, "quote", p)
}

// notFound is the data of the page a person gets for a link that leads to
// no quote.
type notFound struct {
	Lang, Title, Body, CSS, Icon string
}

// RenderNotFound writes the page of a link that leads to no quote, in the
// first of the browser's languages (its Accept-Language) that the
// catalogue has.
func RenderNotFound(w io.Writer, acceptLanguage string) error {
	tx := textsFor(preferredLanguage(acceptLanguage), "")
	return execute(w, "not-found", notFound{Lang: tx.htmlLang(), Title: tx.get("not_found_title"),
		Body: tx.get("not_found_body"), CSS: assetURL("quote-page.css"), Icon: assetURL("quote-page.svg")})
}

// execute renders a whole page before writing any of it, so that a
// template error is an error and not half a page.
func execute(w io.Writer, name string, data any) error {
	var b bytes.Buffer
	if err := tmpl.ExecuteTemplate(&b, name, data); err != nil {
		return fmt.Errorf("quotepage: %s: %w", name, err)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// preferredLanguage returns the catalogue language an Accept-Language
// header ranks first ("pt-BR,pt;q=0.9,en;q=0.8" is pt-BR), or "".
func preferredLanguage(header string) string {
	best, bestQ := "", 0.0
	for item := range strings.SplitSeq(header, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(item), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				continue
			}
			q = f
		}
		lang, _ := engine.CustomerLocale(tag, "")
		if _, ok := catalogue[lang]; ok && q > bestQ {
			best, bestQ = tag, q
		}
	}
	return best
}

// assets are the page's script, style sheet and icon, with their hashes.
var assets = static.Load(assetFS, "assets")

// AssetPath is where the page's files are served, relative to the page
// (/v1/public/quotes/{token}): /v1/public/assets/.
const AssetPath = "/v1/public/assets/"

// assetURL is a file's address relative to the page, with its hash, so
// that a browser may keep it for as long as it likes.
func assetURL(name string) string {
	return "../assets/" + name + "?v=" + assets.Version(name)
}

// ServeAsset serves the page's file named name (under AssetPath) and
// reports whether there is one. The page asks for each file by its hash;
// another version is another address.
func ServeAsset(w http.ResponseWriter, r *http.Request, name string) bool {
	return assets.Serve(w, r, name, static.Immutable)
}
