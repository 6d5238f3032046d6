package engine

import (
	"testing"
)

func TestPlanSend(t *testing.T) {
	both := Channels{Email: &EmailChannel{Provider: "log"}, WhatsApp: &WhatsAppChannel{Provider: "log"}}
	emailOnly := Channels{Email: &EmailChannel{Provider: "smtp"}}
	waOnly := Channels{WhatsApp: &WhatsAppChannel{Provider: "cloud_api"}}
	blankProvider := Channels{Email: &EmailChannel{}, WhatsApp: &WhatsAppChannel{}}

	lead := func(mod func(*Lead)) *Lead {
		l := &Lead{Email: "ana@example.com", Phone: "+351912345678", WhatsAppOptIn: true}
		if mod != nil {
			mod(l)
		}
		return l
	}
	email := &Step{Type: StepSendEmail, Email: &EmailContent{Subject: "s", Text: "t"}}
	wa := &Step{Type: StepSendWhatsApp, WhatsApp: &WhatsAppContent{Template: "x", Language: "en_US"}}
	waFB := &Step{Type: StepSendWhatsApp, WhatsApp: wa.WhatsApp, FallbackChannel: "email", Email: email.Email}
	waFBNoContent := &Step{Type: StepSendWhatsApp, WhatsApp: wa.WhatsApp, FallbackChannel: "email"}
	wait := &Step{Type: StepWait, Wait: &WaitSpec{Duration: "P1D"}}

	tests := []struct {
		name string
		step *Step
		lead *Lead
		ch   Channels
		want SendPlan
	}{
		{"email", email, lead(nil), both, SendPlan{Channel: "email", To: "ana@example.com"}},
		{"email trimmed", email, lead(func(l *Lead) { l.Email = "  ana@example.com " }), both, SendPlan{Channel: "email", To: "ana@example.com"}},
		{"email no address", email, lead(func(l *Lead) { l.Email = " " }), both, SendPlan{Channel: "email", Suppressed: true, Reason: "no_email_address"}},
		{"email opt out", email, lead(func(l *Lead) { l.EmailOptOut = true }), both, SendPlan{Channel: "email", Suppressed: true, Reason: "email_opt_out"}},
		{"email not configured", email, lead(nil), waOnly, SendPlan{Channel: "email", Suppressed: true, Reason: "email_channel_not_configured"}},
		{"email provider blank", email, lead(nil), blankProvider, SendPlan{Channel: "email", Suppressed: true, Reason: "email_channel_not_configured"}},
		{"email: address checked before consent", email, lead(func(l *Lead) { l.Email = ""; l.EmailOptOut = true }), Channels{}, SendPlan{Channel: "email", Suppressed: true, Reason: "no_email_address"}},
		{"email: consent checked before channel", email, lead(func(l *Lead) { l.EmailOptOut = true }), Channels{}, SendPlan{Channel: "email", Suppressed: true, Reason: "email_opt_out"}},
		{"email nil lead", email, nil, both, SendPlan{Channel: "email", Suppressed: true, Reason: "no_email_address"}},

		{"whatsapp", wa, lead(nil), both, SendPlan{Channel: "whatsapp", To: "+351912345678"}},
		{"whatsapp no phone", wa, lead(func(l *Lead) { l.Phone = "" }), both, SendPlan{Channel: "whatsapp", Suppressed: true, Reason: "no_phone_number"}},
		{"whatsapp not opted in", wa, lead(func(l *Lead) { l.WhatsAppOptIn = false }), both, SendPlan{Channel: "whatsapp", Suppressed: true, Reason: "whatsapp_not_opted_in"}},
		{"whatsapp not configured", wa, lead(nil), emailOnly, SendPlan{Channel: "whatsapp", Suppressed: true, Reason: "whatsapp_channel_not_configured"}},
		{"whatsapp nil lead", wa, nil, both, SendPlan{Channel: "whatsapp", Suppressed: true, Reason: "no_phone_number"}},
		{"whatsapp without fallback stays suppressed", wa, lead(func(l *Lead) { l.WhatsAppOptIn = false }), both, SendPlan{Channel: "whatsapp", Suppressed: true, Reason: "whatsapp_not_opted_in"}},

		{"fallback not needed", waFB, lead(nil), both, SendPlan{Channel: "whatsapp", To: "+351912345678"}},
		{"fallback: not opted in", waFB, lead(func(l *Lead) { l.WhatsAppOptIn = false }), both, SendPlan{Channel: "email", To: "ana@example.com", Reason: "whatsapp_not_opted_in", Fallback: true}},
		{"fallback: no phone", waFB, lead(func(l *Lead) { l.Phone = "" }), both, SendPlan{Channel: "email", To: "ana@example.com", Reason: "no_phone_number", Fallback: true}},
		{"fallback: no whatsapp channel", waFB, lead(nil), emailOnly, SendPlan{Channel: "email", To: "ana@example.com", Reason: "whatsapp_channel_not_configured", Fallback: true}},
		{"fallback blocked by opt out", waFB, lead(func(l *Lead) { l.WhatsAppOptIn = false; l.EmailOptOut = true }), both, SendPlan{Channel: "whatsapp", Suppressed: true, Reason: "whatsapp_not_opted_in", FallbackReason: "email_opt_out"}},
		{"fallback blocked by no address", waFB, lead(func(l *Lead) { l.Phone = ""; l.Email = "" }), both, SendPlan{Channel: "whatsapp", Suppressed: true, Reason: "no_phone_number", FallbackReason: "no_email_address"}},
		{"fallback blocked by no email channel", waFB, lead(func(l *Lead) { l.WhatsAppOptIn = false }), waOnly, SendPlan{Channel: "whatsapp", Suppressed: true, Reason: "whatsapp_not_opted_in", FallbackReason: "email_channel_not_configured"}},
		{"fallback without content", waFBNoContent, lead(func(l *Lead) { l.WhatsAppOptIn = false }), both, SendPlan{Channel: "whatsapp", Suppressed: true, Reason: "whatsapp_not_opted_in", FallbackReason: "fallback_email_missing"}},
		{"nothing configured", waFB, lead(nil), Channels{}, SendPlan{Channel: "whatsapp", Suppressed: true, Reason: "whatsapp_channel_not_configured", FallbackReason: "email_channel_not_configured"}},

		{"wait", wait, lead(nil), both, SendPlan{Suppressed: true, Reason: "not_a_send_step"}},
		{"nil step", nil, lead(nil), both, SendPlan{Suppressed: true, Reason: "not_a_send_step"}},
	}
	for _, tc := range tests {
		if got := PlanSend(tc.step, tc.lead, tc.ch); got != tc.want {
			t.Errorf("%s: PlanSend = %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestPlanFallback(t *testing.T) {
	both := Channels{Email: &EmailChannel{Provider: "log"}, WhatsApp: &WhatsAppChannel{Provider: "log"}}
	ok := &Lead{Email: "ana@example.com", Phone: "+351912345678", WhatsAppOptIn: true}
	optedOut := &Lead{Email: "ana@example.com", Phone: "+351912345678", WhatsAppOptIn: true, EmailOptOut: true}
	content := &EmailContent{Subject: "s", Text: "t"}
	waFB := &Step{Type: StepSendWhatsApp, WhatsApp: &WhatsAppContent{Template: "x"}, FallbackChannel: "email", Email: content}
	wa := &Step{Type: StepSendWhatsApp, WhatsApp: &WhatsAppContent{Template: "x"}}
	email := &Step{Type: StepSendEmail, Email: content}

	tests := []struct {
		name   string
		step   *Step
		lead   *Lead
		ch     Channels
		want   SendPlan
		wantOK bool
	}{
		{"usable", waFB, ok, both, SendPlan{Channel: "email", To: "ana@example.com", Reason: "whatsapp_failed", Fallback: true}, true},
		{"no fallback", wa, ok, both, SendPlan{}, false},
		{"opted out of email", waFB, optedOut, both, SendPlan{}, false},
		{"no email channel", waFB, ok, Channels{WhatsApp: both.WhatsApp}, SendPlan{}, false},
		{"email step has no fallback", email, ok, both, SendPlan{}, false},
		{"nil step", nil, ok, both, SendPlan{}, false},
	}
	for _, tc := range tests {
		got, gotOK := PlanFallback(tc.step, tc.lead, tc.ch)
		if got != tc.want || gotOK != tc.wantOK {
			t.Errorf("%s: PlanFallback = %+v, %v; want %+v, %v", tc.name, got, gotOK, tc.want, tc.wantOK)
		}
	}
}
