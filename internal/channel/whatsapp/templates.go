package whatsapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/quoteflow/quoteflow/internal/channel"
)

// Template is one translation of a message template in the tenant's WhatsApp
// Business Account, as far as a send step cares.
type Template struct {
	Name     string
	Language string // "en_US"
	Status   string // "APPROVED", "PENDING", "REJECTED", "PAUSED", "DISABLED", …
	Category string // "UTILITY", "MARKETING", "AUTHENTICATION"
	// BodyParameters is the number of distinct {{n}} placeholders in the
	// BODY component: how many parameters a send must give.
	BodyParameters int
}

// templatePage is one page of GET /{waba_id}/message_templates.
type templatePage struct {
	Data []struct {
		Name       string `json:"name"`
		Language   string `json:"language"`
		Status     string `json:"status"`
		Category   string `json:"category"`
		Components []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		} `json:"components"`
	} `json:"data"`
	Paging struct {
		Cursors struct {
			After string `json:"after"`
		} `json:"cursors"`
		Next string `json:"next"`
	} `json:"paging"`
}

// maxTemplatePages stops a paging loop that a misbehaving server could make
// endless; a WABA holds at most a few thousand templates.
const maxTemplatePages = 1000

// ListTemplates returns every template translation in the tenant's WhatsApp
// Business Account, following Meta's cursor paging. Failures are
// *channel.Error, classified like Send's, except that a lost response is
// Transient: a read may always be repeated.
//
// Paging uses the after cursor on our own base URL rather than following
// paging.next, so the bearer token is only ever sent to the configured host.
func (s *Sender) ListTemplates(ctx context.Context) ([]Template, error) {
	if s.cfg.BusinessAccountID == "" || s.cfg.AccessToken == "" {
		return nil, &channel.Error{Class: channel.Tenant, Code: "config", Message: "whatsapp channel needs a business_account_id and an access_token to list templates"}
	}
	var out []Template
	after := ""
	for range maxTemplatePages {
		q := map[string][]string{
			"limit":  {"100"},
			"fields": {"name,language,status,category,components"},
		}
		if after != "" {
			q["after"] = []string{after}
		}
		ex, err := s.roundTrip(ctx, http.MethodGet, s.endpoint(s.cfg.BusinessAccountID, "message_templates", q), nil)
		if err != nil {
			return nil, transportError(err, ex.wrote, true, s.redact)
		}
		if ex.status < 200 || ex.status > 299 {
			return nil, responseError(ex.status, ex.header, ex.body, s.now(), s.redact)
		}
		var page templatePage
		if ex.readErr != nil {
			return nil, &channel.Error{Class: channel.Transient, Code: "bad_response", Message: "reading the template list: " + s.redact(ex.readErr.Error()), Err: ex.readErr}
		}
		if err := json.Unmarshal(ex.body, &page); err != nil {
			return nil, &channel.Error{Class: channel.Transient, Code: "bad_response", Message: "the template list is not the expected json: " + err.Error(), Err: err}
		}
		for _, d := range page.Data {
			t := Template{Name: d.Name, Language: d.Language, Status: d.Status, Category: d.Category}
			for _, c := range d.Components {
				if strings.EqualFold(c.Type, "BODY") {
					t.BodyParameters = countPlaceholders(c.Text)
				}
			}
			out = append(out, t)
		}
		// Meta leaves out paging.next on the last page; the cursor check
		// also stops a server that hands back the same page forever.
		next := page.Paging.Cursors.After
		if page.Paging.Next == "" || next == "" || next == after || len(page.Data) == 0 {
			return out, nil
		}
		after = next
	}
	return nil, &channel.Error{Class: channel.Transient, Code: "bad_response", Message: fmt.Sprintf("the template list did not end after %d pages", maxTemplatePages)}
}

// placeholder matches a template variable: {{1}} for positional templates,
// {{first_name}} for named ones.
var placeholder = regexp.MustCompile(`\{\{\s*([A-Za-z0-9_]+)\s*\}\}`)

// countPlaceholders counts the distinct variables in a component's text; a
// variable used twice takes one parameter.
func countPlaceholders(text string) int {
	seen := map[string]bool{}
	for _, m := range placeholder.FindAllStringSubmatch(text, -1) {
		seen[m[1]] = true
	}
	return len(seen)
}

// Errors returned by CheckTemplate, for errors.Is.
var (
	ErrTemplateNotFound    = errors.New("whatsapp template not found")
	ErrTemplateNotApproved = errors.New("whatsapp template not approved")
	ErrTemplateParameters  = errors.New("whatsapp template parameter count differs")
)

// CheckTemplate reports whether a step may send template name in language
// with params body parameters, given the tenant's templates ts. The error
// wraps ErrTemplateNotFound, ErrTemplateNotApproved or ErrTemplateParameters
// and says what to change, for a 422 on the step.
func CheckTemplate(ts []Template, name, language string, params int) error {
	var langs []string
	for _, t := range ts {
		if t.Name != name {
			continue
		}
		if t.Language != language {
			langs = append(langs, t.Language)
			continue
		}
		if t.Status != "APPROVED" {
			return fmt.Errorf("%w: template %q (%s) is %s; only APPROVED templates can be sent", ErrTemplateNotApproved, name, language, t.Status)
		}
		if t.BodyParameters != params {
			return fmt.Errorf("%w: template %q (%s) takes %d body parameters, the step gives %d", ErrTemplateParameters, name, language, t.BodyParameters, params)
		}
		return nil
	}
	if len(langs) > 0 {
		slices.Sort(langs)
		return fmt.Errorf("%w: template %q has no %s translation (it has %s)", ErrTemplateNotFound, name, language, strings.Join(slices.Compact(langs), ", "))
	}
	return fmt.Errorf("%w: no template named %q in the business account", ErrTemplateNotFound, name)
}
