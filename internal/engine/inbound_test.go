package engine

import (
	"testing"
	"time"
)

func TestConsentKeywordsClassify(t *testing.T) {
	t.Parallel()
	var defaults *ConsentKeywords
	for _, c := range []struct {
		text string
		want ConsentAction
	}{
		{"STOP", ConsentOptOut},
		{"stop", ConsentOptOut},
		{"  Stop!  ", ConsentOptOut},
		{"Stop promotions", ConsentOptOut}, // Meta's marketing opt-out button
		{"stop   promotions", ConsentOptOut},
		{"Parar", ConsentOptOut},
		{"Pará.", ""}, // "para" (for) is not PARAR, accent or not
		{"baja", ConsentOptOut},
		{"Arrêt", ConsentOptOut},
		{"ARRÊTER", ConsentOptOut},
		{"Désabonner", ConsentOptOut},
		{"start", ConsentOptIn},
		{"Démarrer", ConsentOptIn},
		{"please don't stop", ""},
		{"stop sending me this", ""},
		{"STOPP", ConsentOptOut},
		{"", ""},
		{"!!!", ""},
		{"Can you come on Tuesday?", ""},
	} {
		got, word := defaults.Classify(c.text)
		if got != c.want {
			t.Errorf("Classify(%q) = %q (%q), want %q", c.text, got, word, c.want)
		}
	}
}

func TestConsentKeywordsTenantLists(t *testing.T) {
	t.Parallel()
	// A tenant's list replaces the default for that list only.
	k := &ConsentKeywords{OptOut: []string{"Chega", "Não quero"}}
	for text, want := range map[string]ConsentAction{"chega": ConsentOptOut, "NAO QUERO": ConsentOptOut,
		"stop": "", "start": ConsentOptIn} {
		if got, _ := k.Classify(text); got != want {
			t.Errorf("Classify(%q) = %q, want %q", text, got, want)
		}
	}
	// An empty list, unlike nil, means no words at all.
	none := &ConsentKeywords{OptOut: []string{}, OptIn: []string{}}
	if got, _ := none.Classify("STOP"); got != "" {
		t.Errorf("with empty lists STOP is %q", got)
	}
	if got, word := k.Classify("Não quero!"); got != ConsentOptOut || word != "Não quero" {
		t.Errorf("the keyword is reported as configured: %q %q", got, word)
	}
}

func TestNormalizeKeywordBoundsWork(t *testing.T) {
	t.Parallel()
	long := make([]byte, 10000)
	for i := range long {
		long[i] = 'a'
	}
	if got := NormalizeKeyword(string(long)); got != "" {
		t.Fatalf("a long message normalizes to %d bytes", len(got))
	}
	if got := NormalizeKeyword("ﬁn"); got != "FIN" {
		t.Fatalf("a ligature normalizes to %q", got)
	}
}

func TestPlanSendAtWindow(t *testing.T) {
	t.Parallel()
	ch := Channels{Email: &EmailChannel{Provider: "log"}, WhatsApp: &WhatsAppChannel{Provider: "log"}}
	lead := &Lead{Email: "ana@example.com", Phone: "+351912345678", WhatsAppOptIn: true}
	now := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	open, closed := now.Add(time.Hour), now.Add(-time.Minute)
	email := &EmailContent{Subject: "s", Text: "t"}
	textOnly := &Step{Type: StepSendWhatsApp, WhatsApp: &WhatsAppContent{Text: "Hi"}}
	both := &Step{Type: StepSendWhatsApp, WhatsApp: &WhatsAppContent{Text: "Hi", Template: "x", Language: "en_US"}}
	textEmail := &Step{Type: StepSendWhatsApp, WhatsApp: &WhatsAppContent{Text: "Hi"}, FallbackChannel: "email", Email: email}
	for _, c := range []struct {
		name   string
		step   *Step
		window time.Time
		want   SendPlan
	}{
		{"text inside the window", textOnly, open, SendPlan{Channel: "whatsapp", To: lead.Phone, Text: true}},
		{"text, window closed, no fallback", textOnly, closed, SendPlan{Channel: "whatsapp", Suppressed: true, Reason: "outside_window"}},
		{"text, window never opened", textOnly, time.Time{}, SendPlan{Channel: "whatsapp", Suppressed: true, Reason: "outside_window"}},
		{"text with template, closed: the template", both, closed, SendPlan{Channel: "whatsapp", To: lead.Phone, Reason: "outside_window"}},
		{"text with template, open: the text", both, open, SendPlan{Channel: "whatsapp", To: lead.Phone, Text: true}},
		{"text with email, closed: the email", textEmail, closed, SendPlan{Channel: "email", To: lead.Email, Fallback: true, Reason: "outside_window"}},
		{"window ends exactly at the send", textOnly, now, SendPlan{Channel: "whatsapp", Suppressed: true, Reason: "outside_window"}},
	} {
		if got := PlanSendAt(c.step, lead, ch, now, c.window); got != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
	// Consent comes before the window: an opted-out lead gets no text.
	out := *lead
	at := now.Add(-time.Hour)
	out.WhatsAppOptIn, out.WhatsAppOptedOutAt = false, &at
	if got := PlanSendAt(textEmail, &out, ch, now, open); got != (SendPlan{Channel: "email", To: lead.Email, Fallback: true, Reason: "opted_out"}) {
		t.Errorf("opted out inside the window: %+v", got)
	}
	never := *lead
	never.WhatsAppOptIn = false
	if got := PlanSend(both, &never, ch); got.Reason != "whatsapp_not_opted_in" {
		t.Errorf("never opted in: %+v", got)
	}
}

func TestCancelledByReplied(t *testing.T) {
	t.Parallel()
	w := &Workflow{ExitOn: []QuoteStatus{ExitOnReplied, QuoteAccepted, ExitOnReplied}}
	got := CancelledBy(w)
	if len(got) != 2 || got[0] != QuoteAccepted || got[1] != ExitOnReplied {
		t.Fatalf("CancelledBy = %v, want [accepted replied]", got)
	}
	if QuoteStatuses[len(QuoteStatuses)-1] != QuoteExpired {
		t.Fatal("CancelledBy changed QuoteStatuses")
	}
}

func TestWindowOpen(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	if WindowOpen(time.Time{}, at) || WindowOpen(at, at) || !WindowOpen(at.Add(time.Nanosecond), at) {
		t.Fatal("WindowOpen")
	}
	m := InboundMessage{Type: InboundSystem}
	if m.OpensWindow() {
		t.Fatal("a system notice opens the window")
	}
}
