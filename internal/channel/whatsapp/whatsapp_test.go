package whatsapp_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/channel"
	"github.com/quoteflow/quoteflow/internal/channel/whatsapp"
	"github.com/quoteflow/quoteflow/internal/channel/whatsapp/whatsapptest"
	"github.com/quoteflow/quoteflow/internal/engine"
)

// expectedClasses is what each Meta code must mean, written down apart from
// the table in classify.go so that a slip in either shows up.
var expectedClasses = map[int]channel.Class{
	// Named in the brief.
	130429: channel.Transient, 131056: channel.Transient, 4: channel.Transient, 80007: channel.Transient,
	1: channel.Transient, 2: channel.Transient, 131000: channel.Transient,
	131026: channel.Recipient, 131050: channel.Recipient,
	100: channel.Request, 131008: channel.Request, 131009: channel.Request, 132000: channel.Request,
	132001: channel.Request, 132012: channel.Request, 132015: channel.Request, 132016: channel.Request,
	190: channel.Tenant, 0: channel.Tenant, 10: channel.Tenant, 368: channel.Tenant,
	131031: channel.Tenant, 131042: channel.Tenant, 131048: channel.Tenant,
	// Added from Meta's error-code reference.
	131016: channel.Transient, 133004: channel.Transient,
	131049: channel.Recipient, 130472: channel.Recipient,
	130497: channel.Recipient, 131021: channel.Recipient,
	131051: channel.Request, 132005: channel.Request, 132007: channel.Request,
	3: channel.Tenant, 131037: channel.Tenant, 131045: channel.Tenant, 133010: channel.Tenant,
	// Issue 13: outside the customer-service window is its own class.
	131047: channel.Window,
}

const lead = "+351912345678"

func message(to string, params ...string) *channel.Message {
	return &channel.Message{
		MessageID: "msg_1", AttemptID: "att_1", TenantID: "ten_1", To: to,
		WhatsApp: &channel.WhatsAppTemplate{Name: "quote_followup", Language: "en_US", Parameters: params},
	}
}

func setup(t *testing.T) (*whatsapptest.Server, *whatsapp.Sender) {
	t.Helper()
	srv := whatsapptest.Start(t)
	return srv, whatsapp.New(srv.Channel(), srv.Options())
}

func chErr(t *testing.T, err error) *channel.Error {
	t.Helper()
	var ce *channel.Error
	if !errors.As(err, &ce) {
		t.Fatalf("error %v is not a *channel.Error", err)
	}
	return ce
}

func TestSendRequestShape(t *testing.T) {
	t.Parallel()
	srv, s := setup(t)
	res, err := s.Send(context.Background(), message(lead, "Ana", "Q-2026-001"))
	if err != nil {
		t.Fatal(err)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.PhoneNumberID != whatsapptest.PhoneNumberID || r.Token != whatsapptest.AccessToken {
		t.Fatalf("request to %q with token %q", r.PhoneNumberID, r.Token)
	}
	if res.ProviderMessageID != r.WAMID || !strings.HasPrefix(res.ProviderMessageID, "wamid.") {
		t.Fatalf("result %q, fake issued %q", res.ProviderMessageID, r.WAMID)
	}
	var got map[string]any
	if err := json.Unmarshal(r.Raw, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"messaging_product": "whatsapp",
		"recipient_type":    "individual",
		"to":                "351912345678",
		"type":              "template",
		"template": map[string]any{
			"name":     "quote_followup",
			"language": map[string]any{"code": "en_US"},
			"components": []any{map[string]any{"type": "body", "parameters": []any{
				map[string]any{"type": "text", "text": "Ana"},
				map[string]any{"type": "text", "text": "Q-2026-001"},
			}}},
		},
		"biz_opaque_callback_data": "att_1",
	}
	if g, w := mustJSON(t, got), mustJSON(t, want); g != w {
		t.Fatalf("body\n got %s\nwant %s", g, w)
	}
}

func TestSendRequestLine(t *testing.T) {
	t.Parallel()
	var method, path, auth, ctype string
	raw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		method, path, auth, ctype = r.Method, r.URL.Path, r.Header.Get("Authorization"), r.Header.Get("Content-Type")
		io.WriteString(w, `{"messaging_product":"whatsapp","contacts":[{"input":"351912345678","wa_id":"351912345678"}],"messages":[{"id":"wamid.X"}]}`)
	}))
	t.Cleanup(raw.Close)
	s := whatsapp.New(engine.WhatsAppChannel{PhoneNumberID: "pn1", AccessToken: "tok"},
		whatsapp.Options{BaseURL: raw.URL + "/", APIVersion: "v99.0", Throttle: whatsapp.NewThrottle(0, 0)})
	res, err := s.Send(context.Background(), message(lead))
	if err != nil || res.ProviderMessageID != "wamid.X" {
		t.Fatalf("%v %v", res, err)
	}
	if method != "POST" || path != "/v99.0/pn1/messages" || auth != "Bearer tok" || ctype != "application/json" {
		t.Fatalf("%s %s auth=%q content-type=%q", method, path, auth, ctype)
	}
}

func TestSendWithoutParametersOmitsComponents(t *testing.T) {
	t.Parallel()
	srv, s := setup(t)
	if _, err := s.Send(context.Background(), message(lead)); err != nil {
		t.Fatal(err)
	}
	raw := string(srv.Requests()[0].Raw)
	if strings.Contains(raw, "components") {
		t.Fatalf("body has components: %s", raw)
	}
}

func TestSendErrorClassForEveryCode(t *testing.T) {
	t.Parallel()
	for code, class := range whatsapp.CodeClasses {
		if want, ok := expectedClasses[code]; !ok || want != class {
			t.Errorf("table says %d is %s, test expects %q", code, class, want)
		}
	}
	for code := range expectedClasses {
		if _, ok := whatsapp.CodeClasses[code]; !ok {
			t.Errorf("code %d is expected but missing from the table", code)
		}
	}
	srv, s := setup(t)
	i := 0
	for code, want := range expectedClasses {
		i++
		to := fmt.Sprintf("+3519100%05d", i)
		srv.Script(to, whatsapptest.Fail(code, whatsapptest.WithDetails("more about "+strconv.Itoa(code))))
		_, err := s.Send(context.Background(), message(to))
		ce := chErr(t, err)
		if ce.Class != want || ce.Code != strconv.Itoa(code) {
			t.Errorf("code %d: got %s/%s, want %s", code, ce.Class, ce.Code, want)
		}
		if !strings.Contains(ce.Message, "more about "+strconv.Itoa(code)) || !strings.Contains(ce.Message, "(#") && code != 190 {
			t.Errorf("code %d: message %q lacks Meta's text and details", code, ce.Message)
		}
		var api *whatsapp.APIError
		if !errors.As(err, &api) || api.Code != code || api.FBTraceID == "" {
			t.Errorf("code %d: no APIError in the chain: %#v", code, api)
		}
		if got := (whatsapp.StatusError{Code: code}).Class(); got != want {
			t.Errorf("code %d in a receipt: %s, want %s", code, got, want)
		}
	}
	// Graph permission codes come as a range.
	for _, code := range []int{200, 250, 299} {
		if got := whatsapp.ClassOfCode(code); got != channel.Tenant {
			t.Errorf("permission code %d is %s", code, got)
		}
	}
}

func TestSendUnknownCodesFollowHTTPStatus(t *testing.T) {
	t.Parallel()
	srv, s := setup(t)
	for i, c := range []struct {
		status int
		want   channel.Class
	}{
		{400, channel.Request},
		{404, channel.Request},
		{401, channel.Tenant},
		{429, channel.Transient},
		{500, channel.Transient},
		{503, channel.Transient},
	} {
		to := fmt.Sprintf("+3519200%05d", i)
		srv.Script(to, whatsapptest.Fail(987654, whatsapptest.WithStatus(c.status)))
		ce := chErr(t, second(s.Send(context.Background(), message(to))))
		if ce.Class != c.want || ce.Code != "987654" {
			t.Errorf("unknown code with http %d: %s/%s, want %s", c.status, ce.Class, ce.Code, c.want)
		}
	}
}

func second[T any](_ T, err error) error { return err }

func TestSendRetryAfter(t *testing.T) {
	t.Parallel()
	srv, s := setup(t)
	srv.Script(lead,
		whatsapptest.Fail(130429, whatsapptest.WithRetryAfter(2)),
		whatsapptest.Fail(131056, whatsapptest.WithRetryAfterHeader(time.Now().Add(time.Hour).UTC().Format(http.TimeFormat))),
		whatsapptest.Fail(131000),
	)
	ce := chErr(t, second(s.Send(context.Background(), message(lead))))
	if ce.Class != channel.Transient || ce.RetryAfter != 2*time.Second {
		t.Fatalf("got %s retry after %v, want transient 2s", ce.Class, ce.RetryAfter)
	}
	ce = chErr(t, second(s.Send(context.Background(), message(lead))))
	if ce.RetryAfter < 58*time.Minute || ce.RetryAfter > time.Hour {
		t.Fatalf("http-date retry after %v, want about an hour", ce.RetryAfter)
	}
	ce = chErr(t, second(s.Send(context.Background(), message(lead))))
	if ce.RetryAfter != 0 {
		t.Fatalf("retry after %v without a header", ce.RetryAfter)
	}
	// The script is used up: the fourth send goes through.
	if _, err := s.Send(context.Background(), message(lead)); err != nil {
		t.Fatal(err)
	}
	if srv.Attempts(lead) != 4 || srv.Count(lead) != 1 {
		t.Fatalf("attempts %d, accepted %d", srv.Attempts(lead), srv.Count(lead))
	}
}

func TestSendPlain5xxIsTransient(t *testing.T) {
	t.Parallel()
	raw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "7")
		http.Error(w, "upstream connect error", http.StatusBadGateway)
	}))
	t.Cleanup(raw.Close)
	s := whatsapp.New(engine.WhatsAppChannel{PhoneNumberID: "1", AccessToken: "tok"},
		whatsapp.Options{BaseURL: raw.URL, Throttle: whatsapp.NewThrottle(0, 0)})
	ce := chErr(t, second(s.Send(context.Background(), message(lead))))
	if ce.Class != channel.Transient || ce.Code != "http_502" || ce.RetryAfter != 7*time.Second {
		t.Fatalf("got %s/%s/%v", ce.Class, ce.Code, ce.RetryAfter)
	}
}

func TestSendAcceptedThenNoAnswerIsUnknown(t *testing.T) {
	t.Parallel()
	t.Run("cancelled after the request arrived", func(t *testing.T) {
		t.Parallel()
		arrived := make(chan struct{})
		raw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			close(arrived)
			<-r.Context().Done()
		}))
		t.Cleanup(raw.Close)
		s := whatsapp.New(engine.WhatsAppChannel{PhoneNumberID: "1", AccessToken: "tok"},
			whatsapp.Options{BaseURL: raw.URL, Throttle: whatsapp.NewThrottle(0, 0)})
		ctx, cancel := context.WithCancel(context.Background())
		go func() { <-arrived; cancel() }()
		ce := chErr(t, second(s.Send(ctx, message(lead))))
		if ce.Class != channel.Unknown || ce.Code != "canceled" {
			t.Fatalf("got %s/%s: %s", ce.Class, ce.Code, ce.Message)
		}
	})
	t.Run("deadline while the fake hangs", func(t *testing.T) {
		t.Parallel()
		srv, s := setup(t)
		srv.Script(lead, whatsapptest.Hang())
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		ce := chErr(t, second(s.Send(ctx, message(lead))))
		if ce.Class != channel.Unknown || ce.Code != "timeout" {
			t.Fatalf("got %s/%s: %s", ce.Class, ce.Code, ce.Message)
		}
		if srv.Count(lead) != 1 {
			t.Fatalf("the hung send should count as accepted, count %d", srv.Count(lead))
		}
	})
	t.Run("connection dropped", func(t *testing.T) {
		t.Parallel()
		srv, s := setup(t)
		srv.Script(lead, whatsapptest.Disconnect())
		ce := chErr(t, second(s.Send(context.Background(), message(lead))))
		if ce.Class != channel.Unknown {
			t.Fatalf("got %s/%s: %s", ce.Class, ce.Code, ce.Message)
		}
	})
	t.Run("2xx with an unreadable body", func(t *testing.T) {
		t.Parallel()
		srv, s := setup(t)
		srv.Script(lead, whatsapptest.Malformed())
		ce := chErr(t, second(s.Send(context.Background(), message(lead))))
		if ce.Class != channel.Unknown || ce.Code != "bad_response" {
			t.Fatalf("got %s/%s: %s", ce.Class, ce.Code, ce.Message)
		}
	})
}

func TestSendBeforeTheRequestLeftIsTransient(t *testing.T) {
	t.Parallel()
	t.Run("closed port", func(t *testing.T) {
		t.Parallel()
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		s := whatsapp.New(engine.WhatsAppChannel{PhoneNumberID: "1", AccessToken: "tok"},
			whatsapp.Options{BaseURL: "http://" + addr, Throttle: whatsapp.NewThrottle(0, 0)})
		ce := chErr(t, second(s.Send(context.Background(), message(lead))))
		if ce.Class != channel.Transient || ce.Code != "network" {
			t.Fatalf("got %s/%s: %s", ce.Class, ce.Code, ce.Message)
		}
	})
	t.Run("unresolvable host", func(t *testing.T) {
		t.Parallel()
		s := whatsapp.New(engine.WhatsAppChannel{PhoneNumberID: "1", AccessToken: "tok"},
			whatsapp.Options{BaseURL: "http://graph.invalid", Throttle: whatsapp.NewThrottle(0, 0)})
		ce := chErr(t, second(s.Send(context.Background(), message(lead))))
		if ce.Class != channel.Transient {
			t.Fatalf("got %s/%s: %s", ce.Class, ce.Code, ce.Message)
		}
	})
	t.Run("context already done", func(t *testing.T) {
		t.Parallel()
		srv, s := setup(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		ce := chErr(t, second(s.Send(ctx, message(lead))))
		if ce.Class != channel.Transient || srv.Attempts(lead) != 0 {
			t.Fatalf("got %s/%s, attempts %d", ce.Class, ce.Code, srv.Attempts(lead))
		}
	})
}

func TestSendLocalRefusals(t *testing.T) {
	t.Parallel()
	srv, s := setup(t)
	for _, c := range []struct {
		name string
		s    *whatsapp.Sender
		m    *channel.Message
		want channel.Class
	}{
		{"no template", s, &channel.Message{To: lead}, channel.Request},
		{"bad number", s, message("joao@example.com"), channel.Recipient},
		{"no credentials", whatsapp.New(engine.WhatsAppChannel{PhoneNumberID: "1"}, srv.Options()), message(lead), channel.Tenant},
		{"callback too long", s, &channel.Message{To: lead, AttemptID: strings.Repeat("a", 513),
			WhatsApp: &channel.WhatsAppTemplate{Name: "x", Language: "en"}}, channel.Request},
	} {
		if got := channel.ClassOf(second(c.s.Send(context.Background(), c.m))); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
	if n := len(srv.Requests()); n != 0 {
		t.Fatalf("%d requests reached the fake", n)
	}
}

func TestWrongTokenIsTenantAndNotLeaked(t *testing.T) {
	t.Parallel()
	srv := whatsapptest.Start(t)
	cfg := srv.Channel()
	cfg.AccessToken = "EAAGwrong-token-123"
	s := whatsapp.New(cfg, srv.Options())
	_, err := s.Send(context.Background(), message(lead))
	ce := chErr(t, err)
	if ce.Class != channel.Tenant || ce.Code != "190" {
		t.Fatalf("got %s/%s", ce.Class, ce.Code)
	}
	_, lerr := s.ListTemplates(context.Background())
	for _, e := range []error{err, lerr} {
		if channel.ClassOf(e) != channel.Tenant {
			t.Fatalf("got %v", e)
		}
		if strings.Contains(e.Error(), cfg.AccessToken) || strings.Contains(fmt.Sprintf("%+v", e), cfg.AccessToken) {
			t.Fatalf("error leaks the token: %v", e)
		}
	}
}

func TestPerAccountTokens(t *testing.T) {
	t.Parallel()
	srv := whatsapptest.Start(t)
	srv.SetAccountToken("pn-b", "token-b")
	a := whatsapp.New(srv.Channel(), srv.Options())
	b := whatsapp.New(engine.WhatsAppChannel{PhoneNumberID: "pn-b", AccessToken: "token-b"}, srv.Options())
	bad := whatsapp.New(engine.WhatsAppChannel{PhoneNumberID: "pn-b", AccessToken: whatsapptest.AccessToken}, srv.Options())
	if _, err := a.Send(context.Background(), message(lead)); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Send(context.Background(), message(lead)); err != nil {
		t.Fatal(err)
	}
	if channel.ClassOf(second(bad.Send(context.Background(), message(lead)))) != channel.Tenant {
		t.Fatal("another tenant's token was accepted")
	}
}

func TestSendConcurrentExactlyOnce(t *testing.T) {
	t.Parallel()
	srv, s := setup(t)
	const n = 64
	var wg sync.WaitGroup
	ids := make([]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			res, err := s.Send(context.Background(), message(fmt.Sprintf("+3519300%05d", i), "x"))
			ids[i], errs[i] = res.ProviderMessageID, err
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if seen[ids[i]] {
			t.Fatalf("wamid %s issued twice", ids[i])
		}
		seen[ids[i]] = true
		if c := srv.Count(fmt.Sprintf("+3519300%05d", i)); c != 1 {
			t.Fatalf("recipient %d got %d messages", i, c)
		}
	}
}

func TestListTemplatesFollowsPaging(t *testing.T) {
	t.Parallel()
	srv, s := setup(t)
	srv.AddTemplate(
		whatsapptest.Template{Name: "quote_sent", Language: "en_US", Body: "Hi {{1}}, your quote {{2}} is ready: {{3}}"},
		whatsapptest.Template{Name: "quote_sent", Language: "pt_PT", Body: "Olá {{1}}, o orçamento {{2}} está pronto: {{3}}"},
		whatsapptest.Template{Name: "quote_followup", Language: "en_US", Header: "Quote {{1}}", Body: "Hi {{1}}, any questions about {{2}}? {{1}}"},
		whatsapptest.Template{Name: "promo", Language: "en_US", Status: "PAUSED", Category: "MARKETING", Body: "Spring sale"},
		whatsapptest.Template{Name: "legacy", Language: "en_US", Status: "REJECTED", Body: "{{1}}"},
	)
	ts, err := s.ListTemplates(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []whatsapp.Template{
		{Name: "quote_sent", Language: "en_US", Status: "APPROVED", Category: "UTILITY", BodyParameters: 3},
		{Name: "quote_sent", Language: "pt_PT", Status: "APPROVED", Category: "UTILITY", BodyParameters: 3},
		{Name: "quote_followup", Language: "en_US", Status: "APPROVED", Category: "UTILITY", BodyParameters: 2},
		{Name: "promo", Language: "en_US", Status: "PAUSED", Category: "MARKETING", BodyParameters: 0},
		{Name: "legacy", Language: "en_US", Status: "REJECTED", Category: "UTILITY", BodyParameters: 1},
	}
	if mustJSON(t, ts) != mustJSON(t, want) {
		t.Fatalf("templates\n got %+v\nwant %+v", ts, want)
	}
	// The fake checks sends against what it lists.
	ce := chErr(t, second(s.Send(context.Background(), message(lead, "only one"))))
	if ce.Code != "132000" || ce.Class != channel.Request {
		t.Fatalf("wrong parameter count: %s/%s", ce.Class, ce.Code)
	}
	if _, err := s.Send(context.Background(), message(lead, "Ana", "Q-1")); err != nil {
		t.Fatal(err)
	}
}

func TestListTemplatesEmptyAndUnconfigured(t *testing.T) {
	t.Parallel()
	srv, s := setup(t)
	ts, err := s.ListTemplates(context.Background())
	if err != nil || len(ts) != 0 {
		t.Fatalf("%v %v", ts, err)
	}
	cfg := srv.Channel()
	cfg.BusinessAccountID = ""
	if got := channel.ClassOf(second(whatsapp.New(cfg, srv.Options()).ListTemplates(context.Background()))); got != channel.Tenant {
		t.Fatalf("no waba id: %s", got)
	}
}

func TestListTemplatesStopsOnRepeatedCursor(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	raw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		io.WriteString(w, `{"data":[{"name":"a","language":"en","status":"APPROVED","category":"UTILITY","components":[{"type":"BODY","text":"{{1}}"}]}],
			"paging":{"cursors":{"before":"b","after":"same"},"next":"https://graph.facebook.com/next"}}`)
	}))
	t.Cleanup(raw.Close)
	s := whatsapp.New(engine.WhatsAppChannel{BusinessAccountID: "w", AccessToken: "tok"}, whatsapp.Options{BaseURL: raw.URL})
	ts, err := s.ListTemplates(context.Background())
	if err != nil || len(ts) != 2 || calls.Load() != 2 {
		t.Fatalf("templates %d, calls %d, err %v", len(ts), calls.Load(), err)
	}
}

func TestCheckTemplate(t *testing.T) {
	t.Parallel()
	ts := []whatsapp.Template{
		{Name: "quote_sent", Language: "en_US", Status: "APPROVED", BodyParameters: 2},
		{Name: "quote_sent", Language: "pt_PT", Status: "APPROVED", BodyParameters: 2},
		{Name: "promo", Language: "en_US", Status: "PAUSED", BodyParameters: 0},
		{Name: "draft", Language: "en_US", Status: "PENDING", BodyParameters: 1},
	}
	for _, c := range []struct {
		name, lang string
		params     int
		want       error
		mentions   string
	}{
		{"quote_sent", "en_US", 2, nil, ""},
		{"quote_sent", "pt_PT", 2, nil, ""},
		{"quote_sent", "en_US", 3, whatsapp.ErrTemplateParameters, "takes 2 body parameters, the step gives 3"},
		{"quote_sent", "es_ES", 2, whatsapp.ErrTemplateNotFound, "en_US, pt_PT"},
		{"missing", "en_US", 0, whatsapp.ErrTemplateNotFound, `"missing"`},
		{"promo", "en_US", 0, whatsapp.ErrTemplateNotApproved, "PAUSED"},
		{"draft", "en_US", 1, whatsapp.ErrTemplateNotApproved, "PENDING"},
	} {
		err := whatsapp.CheckTemplate(ts, c.name, c.lang, c.params)
		if !errors.Is(err, c.want) || (err == nil) != (c.want == nil) {
			t.Errorf("%s/%s/%d: got %v, want %v", c.name, c.lang, c.params, err, c.want)
			continue
		}
		if err != nil && !strings.Contains(err.Error(), c.mentions) {
			t.Errorf("%s/%s/%d: %q does not mention %q", c.name, c.lang, c.params, err, c.mentions)
		}
	}
	if err := whatsapp.CheckTemplate(nil, "x", "en", 0); !errors.Is(err, whatsapp.ErrTemplateNotFound) {
		t.Fatal(err)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
