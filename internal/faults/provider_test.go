//go:build faults

package faults

import (
	"bytes"
	"encoding/json"
	"io"
	randv2 "math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/channel/whatsapp/whatsapptest"
)

// profile is what the provider does wrong, per send request.
type profile struct {
	// ServerErrors is the fraction of sends answered 500 with Meta's
	// 131000, not accepted.
	ServerErrors float64
	// Timeouts is the fraction of sends never answered. Half of them are
	// accepted first (Meta took the message, the answer was lost), half are
	// not (the request died on the way): quoteflow cannot tell them apart,
	// and must resend neither.
	Timeouts float64
	// BurstEvery and BurstFor: for BurstFor out of every BurstEvery, every
	// send is answered 429 (Meta's 130429) with a Retry-After to the
	// burst's end.
	BurstEvery, BurstFor time.Duration
	// Latency delays every answer, so that deliveries are in flight when a
	// process is killed.
	Latency time.Duration
	// Duplicates and Phantoms plant the harness's own canaries: the first
	// Duplicates sends reach the fake twice (two acceptances of one
	// attempt: a duplicated delivery), and the next Phantoms are answered
	// 200 with a wamid the fake never issued (a lost one). The canary
	// scenario checks that the count notices both.
	Duplicates, Phantoms int64
}

// faultProfile is the issue's: 20 % 5xx, 5 % timeouts, 429 bursts with
// Retry-After.
var faultProfile = profile{ServerErrors: 0.20, Timeouts: 0.05, BurstEvery: 10 * time.Second, BurstFor: 1500 * time.Millisecond,
	Latency: 20 * time.Millisecond}

// provider is the WhatsApp Cloud API stand-in of one scenario: whatsapptest's
// fake, which checks requests and counts what it accepts, behind a proxy
// that injects the profile's faults before the fake sees a request.
type provider struct {
	wa      *whatsapptest.Server
	url     string
	prof    profile
	started time.Time
	proxy   *httputil.ReverseProxy
	target  *url.URL
	done    chan struct{}

	sends, serverErrors, timeoutsAccepted, timeoutsLost, tooMany atomic.Int64
	planted                                                      atomic.Int64

	// refused holds the attempt ids (biz_opaque_callback_data) of sends the
	// profile refused without the fake seeing them: a message whose every
	// attempt is here failed honestly, however many retries it had.
	refusedMu sync.Mutex
	refused   map[string]bool
}

// refuse records that the send of attempt was refused by a fault.
func (p *provider) refuse(r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	r.Body = io.NopCloser(bytes.NewReader(body))
	var m struct {
		Attempt string `json:"biz_opaque_callback_data"`
	}
	if json.Unmarshal(body, &m) != nil || m.Attempt == "" {
		return
	}
	p.refusedMu.Lock()
	defer p.refusedMu.Unlock()
	if p.refused == nil {
		p.refused = map[string]bool{}
	}
	p.refused[m.Attempt] = true
}

// refusedAll reports whether the profile refused every one of attempts.
func (p *provider) refusedAll(attempts []string) bool {
	p.refusedMu.Lock()
	defer p.refusedMu.Unlock()
	for _, a := range attempts {
		if !p.refused[a] {
			return false
		}
	}
	return len(attempts) > 0
}

// startProvider starts the fake and its faulty front, stopped when t ends.
func startProvider(t *testing.T, prof profile) *provider {
	t.Helper()
	wa := whatsapptest.Start(t)
	for _, name := range []string{"first", "second"} {
		wa.AddTemplate(whatsapptest.Template{Name: name, Language: "en_US", Status: "APPROVED", Category: "UTILITY", Body: "Hi {{1}}"})
	}
	target, err := url.Parse(wa.URL())
	if err != nil {
		t.Fatal(err)
	}
	p := &provider{wa: wa, prof: prof, started: time.Now(), target: target, proxy: httputil.NewSingleHostReverseProxy(target),
		done: make(chan struct{})}
	// A send the client gave up on is the fault itself, not news.
	p.proxy.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, _ error) { w.WriteHeader(http.StatusBadGateway) }
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(p.serveHTTP), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	p.url = "http://" + ln.Addr().String()
	var once sync.Once
	t.Cleanup(func() {
		once.Do(func() { close(p.done) })
		_ = srv.Close()
	})
	return p
}

func (p *provider) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/messages") {
		p.proxy.ServeHTTP(w, r) // template lists: no faults, the save-time check is not what is tested
		return
	}
	p.sends.Add(1)
	if p.prof.Latency > 0 {
		select {
		case <-time.After(p.prof.Latency):
		case <-r.Context().Done():
			return
		}
	}
	if p.prof.BurstEvery > 0 {
		into := time.Since(p.started) % p.prof.BurstEvery
		if into < p.prof.BurstFor {
			p.tooMany.Add(1)
			p.refuse(r)
			secs := int((p.prof.BurstFor-into)/time.Second) + 1
			metaError(w, http.StatusTooManyRequests, 130429, "(#130429) Rate limit hit", secs)
			return
		}
	}
	if n := p.planted.Add(1); n <= p.prof.Duplicates+p.prof.Phantoms {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		r.Body = io.NopCloser(bytes.NewReader(body))
		if n <= p.prof.Duplicates {
			p.acceptSilently(r)
			r.Body = io.NopCloser(bytes.NewReader(body))
			p.proxy.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"messaging_product": "whatsapp",
			"messages": []map[string]string{{"id": "wamid.phantom" + strconv.FormatInt(n, 10), "message_status": "accepted"}}})
		return
	}
	x := randv2.Float64()
	switch {
	case x < p.prof.ServerErrors:
		p.serverErrors.Add(1)
		p.refuse(r)
		metaError(w, http.StatusInternalServerError, 131000, "(#131000) Something went wrong", 0)
		return
	case x < p.prof.ServerErrors+p.prof.Timeouts/2:
		p.timeoutsLost.Add(1)
		p.refuse(r)
		p.hang(r)
		return
	case x < p.prof.ServerErrors+p.prof.Timeouts:
		p.timeoutsAccepted.Add(1)
		p.acceptSilently(r)
		p.hang(r)
		return
	}
	p.proxy.ServeHTTP(w, r)
}

// acceptSilently hands the send to the fake, which accepts and counts it,
// and throws the answer away.
func (p *provider) acceptSilently(r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	req, err := http.NewRequest(http.MethodPost, p.target.String()+r.URL.Path, bytes.NewReader(body))
	if err != nil {
		return
	}
	req.Header = r.Header.Clone()
	res, err := http.DefaultClient.Do(req)
	if err == nil {
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
}

// hang answers nothing until the client gives up.
func (p *provider) hang(r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-p.done:
	}
}

func metaError(w http.ResponseWriter, status, code int, message string, retryAfter int) {
	w.Header().Set("Content-Type", "application/json")
	if retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
		"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "Afaults"}})
}

// accepted returns, per attempt id (biz_opaque_callback_data), how many
// sends carrying it the fake accepted, and the requests themselves for
// receipts.
func (p *provider) accepted() (map[string]int, []whatsapptest.Request) {
	per := map[string]int{}
	var reqs []whatsapptest.Request
	for _, r := range p.wa.Requests() {
		if r.WAMID == "" {
			continue
		}
		per[r.Body.BizOpaqueCallbackData]++
		reqs = append(reqs, r)
	}
	return per, reqs
}
