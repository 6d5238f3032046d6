package bench

import (
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/channel/whatsapp/whatsapptest"
)

// waTemplate is the template the bench's WhatsApp steps send.
var waTemplate = whatsapptest.Template{Name: "quote_sent", Language: "en_US", Body: "Hello {{1}}, your quote {{2}} is ready."}

// startWhatsAppFake starts the local stand-in for Meta's Cloud API that the
// tests use (whatsapptest), with the latency and error rate asked for.
// whatsapptest ties the server's life to a testing.TB; outside tests a
// minimal one closes it through the returned function.
func startWhatsAppFake(latency time.Duration, errorRate float64) (*whatsapptest.Server, func()) {
	tb := &lifetime{}
	s := whatsapptest.Start(tb)
	s.SetLatency(latency)
	if errorRate > 0 {
		s.SetErrorRate(errorRate, 0) // 131000: transient, retried with backoff
	}
	s.AddTemplate(waTemplate)
	return s, tb.close
}

// lifetime is the part of testing.TB that whatsapptest.Start uses: Helper
// and Cleanup. Any other method panics (the embedded interface is nil).
type lifetime struct {
	testing.TB
	cleanups []func()
}

func (l *lifetime) Helper()           {}
func (l *lifetime) Cleanup(fn func()) { l.cleanups = append(l.cleanups, fn) }

func (l *lifetime) close() {
	for i := len(l.cleanups) - 1; i >= 0; i-- {
		l.cleanups[i]()
	}
	l.cleanups = nil
}
