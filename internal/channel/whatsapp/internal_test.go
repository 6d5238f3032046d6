package whatsapp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/quoteflow/quoteflow/internal/channel"
	"github.com/quoteflow/quoteflow/internal/engine"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// reserve takes one token of key's limiter at time at and returns the
// reservation and how long its holder must wait, so that the arithmetic can
// be checked at explicit times rather than by sleeping.
func reserve(th *Throttle, key string, at time.Time) (*rate.Reservation, time.Duration) {
	r := th.limiter(key).ReserveN(at, 1)
	return r, r.DelayFrom(at)
}

func TestThrottleReserveArithmetic(t *testing.T) {
	t.Parallel()
	th := NewThrottle(10, 3) // one token per 100ms, three banked

	// A fresh bucket holds the burst: three sends go at once.
	for i := range 3 {
		if _, d := reserve(th, "A", t0); d != 0 {
			t.Fatalf("send %d of the burst waits %v", i, d)
		}
	}
	// The fourth and fifth queue behind it, one token period apart.
	if _, d := reserve(th, "A", t0); d != 100*time.Millisecond {
		t.Fatalf("fourth send waits %v, want 100ms", d)
	}
	if _, d := reserve(th, "A", t0); d != 200*time.Millisecond {
		t.Fatalf("fifth send waits %v, want 200ms", d)
	}
	// Other numbers have their own bucket.
	if _, d := reserve(th, "B", t0); d != 0 {
		t.Fatalf("other phone number waits %v", d)
	}
	// 250ms later the two reservations are paid and half a token accrued.
	if _, d := reserve(th, "A", t0.Add(250*time.Millisecond)); d != 50*time.Millisecond {
		t.Fatalf("after 250ms a send waits %v, want 50ms", d)
	}
	// A long quiet spell refills only up to the burst.
	later := t0.Add(time.Hour)
	for i := range 3 {
		if _, d := reserve(th, "A", later); d != 0 {
			t.Fatalf("after an hour, send %d waits %v", i, d)
		}
	}
	r, d := reserve(th, "A", later)
	if d != 100*time.Millisecond {
		t.Fatalf("burst after an hour exceeded: waits %v", d)
	}
	// Giving a reservation back lets the next caller go sooner.
	r.CancelAt(later)
	if _, d := reserve(th, "A", later); d != 100*time.Millisecond {
		t.Fatalf("after cancel waits %v, want 100ms", d)
	}
}

func TestThrottleDefaultRate(t *testing.T) {
	t.Parallel()
	th := NewThrottle(DefaultPerSecond, DefaultBurst)
	for range DefaultBurst {
		reserve(th, "n", t0)
	}
	// At 80/s each further token is 12.5ms.
	if _, d := reserve(th, "n", t0); d != 12500*time.Microsecond {
		t.Fatalf("waits %v, want 12.5ms", d)
	}
}

func TestThrottleRemembersBoundedNumbers(t *testing.T) {
	t.Parallel()
	th := NewThrottle(1e-6, 1)
	for i := range maxPhoneNumbers + 100 {
		reserve(th, fmt.Sprint(i), t0)
	}
	if n := th.limiters.Len(); n != maxPhoneNumbers {
		t.Fatalf("throttle holds %d limiters, want at most %d", n, maxPhoneNumbers)
	}
	// The number that sent last is still paced.
	if _, d := reserve(th, fmt.Sprint(maxPhoneNumbers+99), t0); d == 0 {
		t.Fatal("a recent number was forgotten")
	}
}

func TestThrottleWait(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// One token per ~11 days: the second Wait can never be served within
	// the test, so every path below must return without blocking.
	th := NewThrottle(1e-6, 1)
	if err := th.Wait(ctx, "n"); err != nil {
		t.Fatal(err)
	}
	// A deadline before the token fails at once and gives the slot back.
	budget, cancel := context.WithTimeout(ctx, time.Hour)
	defer cancel()
	if err := th.Wait(budget, "n"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want deadline exceeded", err)
	}
	if got := th.limiter("n").Tokens(); got < -0.01 || got > 0.01 {
		t.Fatalf("refused wait kept its reservation: tokens %v", got)
	}
	// A context already done wins, and takes no token.
	cctx, cancel2 := context.WithCancel(ctx)
	cancel2()
	if err := th.Wait(cctx, "n"); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want canceled", err)
	}
	// A context cancelled while waiting releases the waiter.
	wctx, cancel3 := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- th.Wait(wctx, "n") }()
	cancel3()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want canceled", err)
	}
	// Unlimited and nil throttles never wait.
	var nilTh *Throttle
	for _, u := range []*Throttle{NewThrottle(0, 0), nilTh} {
		for range 1000 {
			if err := u.Wait(ctx, "n"); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"2", 2 * time.Second},
		{" 120 ", 2 * time.Minute},
		{"0", 0},
		{"-5", 0},
		{"soon", 0},
		{"1.5", 0},
		{t0.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{t0.Add(-time.Minute).Format(http.TimeFormat), 0},
		{"Sun, 01 Mar 2026 12:00:30 GMT", 30 * time.Second},
		{"Sunday, 01-Mar-26 12:00:30 GMT", 30 * time.Second}, // RFC 850, still allowed
		{"999999999999", maxRetryAfter},
		{t0.Add(72 * time.Hour).Format(http.TimeFormat), maxRetryAfter},
	} {
		if got := parseRetryAfter(c.in, t0); got != c.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestClassOfResponseWithoutKnownCode(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		status  int
		code    int
		hasCode bool
		want    channel.Class
	}{
		{500, 0, false, channel.Transient},
		{502, 0, false, channel.Transient},
		{503, 987654, true, channel.Transient},
		{429, 0, false, channel.Transient},
		{401, 0, false, channel.Tenant},
		{401, 987654, true, channel.Tenant},
		{400, 987654, true, channel.Request},
		{404, 0, false, channel.Request},
		{302, 0, false, channel.Request},
		// A known code beats the status.
		{500, 131026, true, channel.Recipient},
		{400, 130429, true, channel.Transient},
		{400, 0, true, channel.Tenant},
		{403, 250, true, channel.Tenant},
	} {
		if got := classOfResponse(c.status, c.code, c.hasCode); got != c.want {
			t.Errorf("classOfResponse(%d, %d, %v) = %s, want %s", c.status, c.code, c.hasCode, got, c.want)
		}
	}
	if got := ClassOfCode(987654); got != channel.Request {
		t.Errorf("unknown code is %s, want request", got)
	}
}

func TestCountPlaceholders(t *testing.T) {
	t.Parallel()
	for text, want := range map[string]int{
		"":                                   0,
		"Thanks for your order.":             0,
		"Hi {{1}}, quote {{2}} is ready":     2,
		"{{1}} {{1}} {{2}}":                  2,
		"Hi {{1}}, {{2}} for {{3}} ({{10}})": 4,
		"Hi {{ 1 }}":                         1,
		"Hi {{first_name}}, {{quote}}":       2,
		"Not {one} nor {{}} nor {{ }}":       0,
	} {
		if got := countPlaceholders(text); got != want {
			t.Errorf("countPlaceholders(%q) = %d, want %d", text, got, want)
		}
	}
}

func TestRecipientNumber(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"+351912345678":     "351912345678",
		"351912345678":      "351912345678",
		" +14155550100 ":    "14155550100",
		"+1 415 555 0100":   "",
		"+0123456789":       "",
		"+12345":            "",
		"+1234567890123456": "",
		"joao@example.com":  "",
		"":                  "",
	} {
		got, ok := recipientNumber(in)
		if got != want || ok != (want != "") {
			t.Errorf("recipientNumber(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

// silentTransport is a RoundTripper that reports no trace events and fails
// after "sending", like a custom transport wrapping someone else's client.
type silentTransport struct{ calls atomic.Int32 }

func (s *silentTransport) RoundTrip(*http.Request) (*http.Response, error) {
	s.calls.Add(1)
	return nil, errors.New("connection reset by peer")
}

func TestSendWithUntraceableTransportIsUnknown(t *testing.T) {
	t.Parallel()
	tr := &silentTransport{}
	s := New(engine.WhatsAppChannel{PhoneNumberID: "1", AccessToken: "secret-token"},
		Options{BaseURL: "http://127.0.0.1:1", HTTPClient: &http.Client{Transport: tr}, Throttle: NewThrottle(0, 0)})
	_, err := s.Send(context.Background(), &channel.Message{To: "+351912345678", AttemptID: "a1",
		WhatsApp: &channel.WhatsAppTemplate{Name: "t", Language: "en_US"}})
	if channel.ClassOf(err) != channel.Unknown {
		t.Fatalf("got %v, want unknown: without trace events the request may have left", err)
	}
	if tr.calls.Load() != 1 {
		t.Fatalf("transport called %d times", tr.calls.Load())
	}
}

func TestSendThrottledOutIsTransientAndNotSent(t *testing.T) {
	t.Parallel()
	tr := &silentTransport{}
	th := NewThrottle(1e-6, 1)
	s := New(engine.WhatsAppChannel{PhoneNumberID: "1", AccessToken: "secret-token"},
		Options{BaseURL: "http://127.0.0.1:1", HTTPClient: &http.Client{Transport: tr}, Throttle: th})
	_ = th.Wait(context.Background(), "1") // spend the only token
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := s.Send(ctx, &channel.Message{To: "+351912345678",
		WhatsApp: &channel.WhatsAppTemplate{Name: "t", Language: "en_US"}})
	var ce *channel.Error
	if !errors.As(err, &ce) || ce.Class != channel.Transient || ce.Code != "timeout" {
		t.Fatalf("got %#v, want transient timeout", err)
	}
	if tr.calls.Load() != 0 {
		t.Fatal("a throttled-out send reached the transport")
	}
}

func TestRedactAndString(t *testing.T) {
	t.Parallel()
	s := New(engine.WhatsAppChannel{PhoneNumberID: "42", AccessToken: "EAAG-token-value", AppSecret: "app-secret-value"}, Options{})
	got := s.redact("bad token EAAG-token-value and app-secret-value")
	if strings.Contains(got, "EAAG-token-value") || strings.Contains(got, "app-secret-value") {
		t.Fatalf("redact left a secret: %q", got)
	}
	for _, str := range []string{s.String(), fmtV(s)} {
		if strings.Contains(str, "EAAG") || strings.Contains(str, "app-secret") {
			t.Fatalf("String leaks a secret: %q", str)
		}
	}
}

func fmtV(v any) string { return fmt.Sprintf("%v %+v", v, v) }
