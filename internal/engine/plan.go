package engine

import (
	"strings"
	"time"
)

// Reasons a send is suppressed or moved to its fallback channel, stable codes
// stored on messages and counted by the outbox statistics.
const (
	ReasonNoEmailAddress        = "no_email_address"
	ReasonEmailOptOut           = "email_opt_out"
	ReasonEmailNotConfigured    = "email_channel_not_configured"
	ReasonNoPhoneNumber         = "no_phone_number"
	ReasonWhatsAppNotOptedIn    = "whatsapp_not_opted_in"
	ReasonWhatsAppNotConfigured = "whatsapp_channel_not_configured"
	// ReasonWhatsAppOptedOut is a lead that opted out of WhatsApp (a
	// keyword, Meta's opt-out button or preference), as opposed to one
	// that never opted in.
	ReasonWhatsAppOptedOut = "opted_out"
	// ReasonOutsideWindow is a free-form WhatsApp text that cannot be sent
	// because the customer-service window is closed: the step's template
	// goes instead, or its email fallback, or nothing.
	ReasonOutsideWindow = "outside_window"
	// ReasonWhatsAppFailed is the Reason of the email fallback planned by
	// PlanFallback, after the WhatsApp message failed for its recipient.
	ReasonWhatsAppFailed = "whatsapp_failed"
	// ReasonFallbackEmailMissing is the FallbackReason of a step whose
	// fallback_channel is email but that carries no email content (which
	// validation refuses).
	ReasonFallbackEmailMissing = "fallback_email_missing"
	// ReasonNotASendStep is the Reason of the plan of a wait step or of a
	// step of an unknown type, which sends nothing.
	ReasonNotASendStep = "not_a_send_step"
)

// SendPlan says on which channel and to whom a send step goes, or why it is
// suppressed.
type SendPlan struct {
	// Channel is ChannelEmail or ChannelWhatsApp: where the message goes,
	// or, when Suppressed, the channel the step asked for.
	Channel string `json:"channel"`
	// To is the lead's address on Channel; empty when Suppressed.
	To         string `json:"to,omitempty"`
	Suppressed bool   `json:"suppressed"`
	// Reason is why the step's own channel was not used: why the message
	// is suppressed, or, with Fallback, why WhatsApp was replaced by email,
	// or (outside_window) why a WhatsApp step's template goes instead of
	// its free-form text.
	Reason string `json:"reason,omitempty"`
	// Fallback is set when a send_whatsapp step goes by its email fallback.
	Fallback bool `json:"fallback"`
	// Text is set when a send_whatsapp step goes as its free-form text
	// (inside the customer-service window) rather than its template.
	Text bool `json:"text,omitempty"`
	// FallbackReason is set when a suppressed WhatsApp send had an email
	// fallback that could not be used either, and says why (for instance
	// email_opt_out).
	FallbackReason string `json:"fallback_reason,omitempty"`
}

// PlanSend decides where a send step goes for lead, given the tenant's
// channels (SPEC §3, "at send time"):
//
//   - send_email goes to the lead's email address unless it has none
//     (no_email_address), opted out (email_opt_out) or the tenant has no
//     email channel (email_channel_not_configured), checked in that order.
//   - send_whatsapp goes to the lead's phone unless it has none
//     (no_phone_number), opted out (opted_out), has not opted in
//     (whatsapp_not_opted_in) or the tenant has no WhatsApp channel
//     (whatsapp_channel_not_configured). When it cannot, and the step has
//     fallback_channel email with email content that can be sent, it goes
//     by email with Fallback set and Reason saying why WhatsApp was not
//     used; otherwise it is suppressed with the WhatsApp reason, and
//     FallbackReason says why an email fallback could not be used. A step
//     with free-form text is planned as outside the customer-service
//     window (see PlanSendAt).
//   - Any other step is suppressed with not_a_send_step.
//
// A channel is configured when the tenant has its settings with a provider.
// Addresses are trimmed of surrounding space.
func PlanSend(step *Step, lead *Lead, ch Channels) SendPlan {
	return planSend(step, lead, ch, false)
}

// PlanSendAt is PlanSend for a send due at at, when the customer-service
// window of the lead's number ends at windowEnd (zero: it never opened). A
// send_whatsapp step with free-form text goes as that text (Text set) while
// the window is open at at; outside it the step's template goes instead
// (Reason outside_window), and a step without a template is treated as
// WhatsApp being unusable for outside_window: its email fallback, or
// suppressed.
func PlanSendAt(step *Step, lead *Lead, ch Channels, at, windowEnd time.Time) SendPlan {
	return planSend(step, lead, ch, WindowOpen(windowEnd, at))
}

func planSend(step *Step, lead *Lead, ch Channels, windowOpen bool) SendPlan {
	if step == nil {
		return SendPlan{Suppressed: true, Reason: ReasonNotASendStep}
	}
	switch step.Type {
	case StepSendEmail:
		to, why := emailAllowed(lead, ch)
		if why != "" {
			return SendPlan{Channel: ChannelEmail, Suppressed: true, Reason: why}
		}
		return SendPlan{Channel: ChannelEmail, To: to}
	case StepSendWhatsApp:
		to, why := whatsAppAllowed(lead, ch)
		if why == "" {
			wa := step.WhatsApp
			switch {
			case wa == nil || wa.Text == "":
				return SendPlan{Channel: ChannelWhatsApp, To: to}
			case windowOpen:
				return SendPlan{Channel: ChannelWhatsApp, To: to, Text: true}
			case wa.Template != "":
				return SendPlan{Channel: ChannelWhatsApp, To: to, Reason: ReasonOutsideWindow}
			}
			why = ReasonOutsideWindow
		}
		if fb, fbWhy := emailFallback(step, lead, ch); fbWhy == "" {
			fb.Reason = why
			return fb
		} else if step.FallbackChannel == ChannelEmail {
			return SendPlan{Channel: ChannelWhatsApp, Suppressed: true, Reason: why, FallbackReason: fbWhy}
		}
		return SendPlan{Channel: ChannelWhatsApp, Suppressed: true, Reason: why}
	}
	return SendPlan{Channel: "", Suppressed: true, Reason: ReasonNotASendStep}
}

// PlanFallback returns the email plan for a WhatsApp message of step that
// failed later with a recipient-class error (by the provider's response or
// by receipt), and true when the step has an email fallback that can be
// used for lead now. The plan's Reason is whatsapp_failed.
func PlanFallback(step *Step, lead *Lead, ch Channels) (SendPlan, bool) {
	if step == nil || step.Type != StepSendWhatsApp {
		return SendPlan{}, false
	}
	fb, why := emailFallback(step, lead, ch)
	if why != "" {
		return SendPlan{}, false
	}
	fb.Reason = ReasonWhatsAppFailed
	return fb, true
}

// emailFallback plans the email fallback of a send_whatsapp step, or says
// why there is none that can be used ("" reason means it can).
func emailFallback(step *Step, lead *Lead, ch Channels) (SendPlan, string) {
	if step.FallbackChannel != ChannelEmail {
		return SendPlan{}, "no_fallback"
	}
	if step.Email == nil {
		return SendPlan{}, ReasonFallbackEmailMissing
	}
	to, why := emailAllowed(lead, ch)
	if why != "" {
		return SendPlan{}, why
	}
	return SendPlan{Channel: ChannelEmail, To: to, Fallback: true}, ""
}

func emailAllowed(lead *Lead, ch Channels) (to, why string) {
	if lead != nil {
		to = strings.TrimSpace(lead.Email)
	}
	switch {
	case to == "":
		return "", ReasonNoEmailAddress
	case lead.EmailOptOut:
		return "", ReasonEmailOptOut
	case ch.Email == nil || ch.Email.Provider == "":
		return "", ReasonEmailNotConfigured
	}
	return to, ""
}

func whatsAppAllowed(lead *Lead, ch Channels) (to, why string) {
	if lead != nil {
		to = strings.TrimSpace(lead.Phone)
	}
	switch {
	case to == "":
		return "", ReasonNoPhoneNumber
	case !lead.WhatsAppOptIn && lead.WhatsAppOptedOutAt != nil:
		return "", ReasonWhatsAppOptedOut
	case !lead.WhatsAppOptIn:
		return "", ReasonWhatsAppNotOptedIn
	case ch.WhatsApp == nil || ch.WhatsApp.Provider == "":
		return "", ReasonWhatsAppNotConfigured
	}
	return to, ""
}
