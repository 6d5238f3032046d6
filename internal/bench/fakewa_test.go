package bench

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/quoteflow/quoteflow/internal/channel"
	"github.com/quoteflow/quoteflow/internal/channel/whatsapp"
)

// TestWhatsAppFakeSpeaksToTheSender: quoteflow's own Cloud API client reads
// the fake's answers as Meta's: a send gets a wamid, the error rate gives
// transient failures, a step that does not match the template is refused as
// a request error, other credentials are the tenant's fault, and the
// template listing passes the check the app makes when the workflow is
// saved.
func TestWhatsAppFakeSpeaksToTheSender(t *testing.T) {
	ctx := context.Background()
	f, stop, err := startWhatsAppFake(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	s := whatsapp.New(f.Channel(), whatsapp.Options{BaseURL: f.URL()})
	msg := func(name string, params ...string) *channel.Message {
		return &channel.Message{To: "+351910000001", AttemptID: "a1",
			WhatsApp: &channel.WhatsAppTemplate{Name: name, Language: waTemplate.Language, Parameters: params}}
	}

	seen := map[string]bool{}
	for range 3 {
		res, err := s.Send(ctx, msg(waTemplate.Name, "Ana", "Q-1"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(res.ProviderMessageID, "wamid.") || seen[res.ProviderMessageID] {
			t.Fatalf("wamid %q: want a fresh wamid. each time", res.ProviderMessageID)
		}
		seen[res.ProviderMessageID] = true
	}
	if _, err := s.Send(ctx, msg("other", "Ana", "Q-1")); channel.ClassOf(err) != channel.Request {
		t.Fatalf("unknown template: %v, want a request error", err)
	}
	if _, err := s.Send(ctx, msg(waTemplate.Name, "Ana")); channel.ClassOf(err) != channel.Request {
		t.Fatalf("one parameter short: %v, want a request error", err)
	}
	ch := f.Channel()
	ch.AccessToken = "someone-else"
	if _, err := whatsapp.New(ch, whatsapp.Options{BaseURL: f.URL()}).Send(ctx, msg(waTemplate.Name, "Ana", "Q-1")); channel.ClassOf(err) != channel.Tenant {
		t.Fatalf("wrong token: %v, want a tenant error", err)
	}

	ts, err := s.ListTemplates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := whatsapp.CheckTemplate(ts, waTemplate.Name, waTemplate.Language, waTemplate.Parameters); err != nil {
		t.Fatalf("templates %+v: %v", ts, err)
	}

	failing, stopFailing, err := startWhatsAppFake(0, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer stopFailing()
	_, err = whatsapp.New(failing.Channel(), whatsapp.Options{BaseURL: failing.URL()}).Send(ctx, msg(waTemplate.Name, "Ana", "Q-1"))
	var ce *channel.Error
	if !errors.As(err, &ce) || ce.Class != channel.Transient || ce.Code != "131000" {
		t.Fatalf("error rate 1: %#v, want transient 131000", err)
	}
}
