package api

import (
	"bytes"
	"context"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/quoteflow/quoteflow/internal/api/quotepage"
	"github.com/quoteflow/quoteflow/internal/engine"
)

// The customer's quote page (issue 11): the public link answers a browser
// with an HTML page and a JSON client with the JSON it always had. Neither
// records a view; the page's script does, through view-public-quote, when
// a person has the page in front of them.

// prefersHTML reports whether an Accept header ranks HTML above JSON, as a
// browser's does ("text/html,...,*/*;q=0.8"). A client that accepts both
// equally, sends */* or sends nothing gets JSON, as before the page
// existed.
func prefersHTML(accept string) bool {
	if strings.TrimSpace(accept) == "" {
		return false
	}
	html := max(acceptQuality(accept, "text", "html"), acceptQuality(accept, "application", "xhtml+xml"))
	return html > 0 && html > acceptQuality(accept, "application", "json")
}

// acceptQuality is the quality an Accept header gives the media type
// typ/sub: that of its most specific matching range (RFC 9110 §12.5.1),
// 0 when none matches.
func acceptQuality(accept, typ, sub string) float64 {
	best, q := -1, 0.0
	for item := range strings.SplitSeq(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(item))
		if err != nil {
			continue
		}
		t, s, _ := strings.Cut(mt, "/")
		rank := -1
		switch {
		case t == typ && s == sub:
			rank = 2
		case t == typ && s == "*":
			rank = 1
		case t == "*" && s == "*":
			rank = 0
		}
		if rank <= best {
			continue
		}
		v := 1.0
		if raw, ok := params["q"]; ok {
			f, err := strconv.ParseFloat(raw, 64)
			if err != nil || f < 0 || f > 1 {
				continue
			}
			v = f
		}
		best, q = rank, v
	}
	return q
}

// quotePage declares that get-public-quote also answers text/html, and
// serves the page to the requests that prefer it before huma's handler
// would answer JSON.
func (s *Server) quotePage(op huma.Operation) huma.Operation {
	page := func(desc string) *huma.MediaType {
		return &huma.MediaType{Schema: &huma.Schema{Type: huma.TypeString, Description: desc}}
	}
	op.Responses = map[string]*huma.Response{
		"200": {Content: map[string]*huma.MediaType{"application/json": {},
			"text/html": page("The customer's page, for a request whose Accept ranks text/html above application/json")}},
		"404": {Description: "Not Found: not-found problem; a browser gets a page saying the link leads to no quote",
			Content: map[string]*huma.MediaType{"application/problem+json": {Schema: &huma.Schema{Ref: problemSchemaRef}},
				"text/html": page("The page of a link that leads to no quote")}},
		// As huma declares it for an operation that declares no response.
		"default": {Description: "Error", Content: map[string]*huma.MediaType{"application/problem+json": {Schema: &huma.Schema{Ref: problemSchemaRef}}}},
	}
	op.Middlewares = append(op.Middlewares, s.serveQuotePage)
	return op
}

// serveQuotePage answers a browser with the quote's page and lets every
// other request through to the JSON handler.
func (s *Server) serveQuotePage(ctx huma.Context, next func(huma.Context)) {
	ctx.AppendHeader("Vary", "Accept")
	if !prefersHTML(ctx.Header("Accept")) {
		next(ctx)
		return
	}
	var b bytes.Buffer
	status := http.StatusOK
	p, err := s.app.GetQuotePage(ctx.Context(), ctx.Param("token"))
	switch {
	case engine.IsNotFound(err):
		status = http.StatusNotFound
		err = quotepage.RenderNotFound(&b, ctx.Header("Accept-Language"))
	case err == nil:
		q := &p.Quote
		err = quotepage.Render(&b, quotepage.Quote{Token: q.PublicToken, Company: p.Company, CustomerName: p.Lead.FirstName,
			Number: q.Number, Amount: q.Amount(), Currency: q.Currency, Status: q.Status, ValidUntil: q.ValidUntil,
			RejectionReason: q.RejectionReason, Language: p.Lead.Language, Country: p.Lead.Country, Location: p.Location})
	}
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	pageHeaders(ctx.SetHeader, quotepage.CSP)
	ctx.SetStatus(status)
	_, _ = ctx.BodyWriter().Write(b.Bytes())
}

// pageHeaders are those of every HTML page the service serves: the page's
// Content-Security-Policy, no sniffing, no referrer (the address holds the
// quote's secret token), and no copy kept anywhere (it shows the quote as
// it is now).
func pageHeaders(set func(name, value string), csp string) {
	set("Content-Type", "text/html; charset=utf-8")
	set("Content-Security-Policy", csp)
	set("X-Content-Type-Options", "nosniff")
	set("Referrer-Policy", "no-referrer")
	set("Cache-Control", "no-store")
}

// viewPublicQuote records that the customer is looking at the quote: the
// request the page's script sends when the page is visible. It is safe to
// repeat: only a sent quote is viewed, once.
func (s *Server) viewPublicQuote(ctx context.Context, in *TokenPath) (*body[PublicQuoteOut], error) {
	q, _, err := s.app.RecordView(ctx, in.Token)
	if err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	return &body[PublicQuoteOut]{Body: s.publicQuote(ctx, q)}, nil
}

// serveQuotePageAsset serves the page's script and style sheet, from the
// binary.
func (s *Server) serveQuotePageAsset(w http.ResponseWriter, r *http.Request) {
	if !quotepage.ServeAsset(w, r, r.PathValue("file")) {
		writeProblem(w, newProblem(http.StatusNotFound, "no file "+r.URL.Path))
	}
}
