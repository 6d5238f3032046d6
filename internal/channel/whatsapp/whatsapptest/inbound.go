package whatsapptest

import (
	"encoding/json"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"
)

// Message is a WhatsApp user's message to the business, for
// InboundWebhook: what Meta posts in the messages field when the user
// writes, taps a button or sends media.
type Message struct {
	// ID is the wamid; a fresh one when empty.
	ID string
	// From is the user's number, with or without +; Meta sends digits.
	From string
	// Name is the user's profile name in the contacts entry.
	Name string
	// Timestamp is when the user sent it; now when zero.
	Timestamp time.Time
	// Type is Meta's message type; Content is that type's object, as
	// Meta's messages webhook reference shows it ({"body": ...} for text).
	Type    string
	Content any
	// Context is the wamid of the business message replied to, if any.
	Context string
}

var inboundSeq atomic.Int64

// Text is a text message.
func Text(from, body string) Message {
	return Message{From: from, Type: "text", Content: map[string]any{"body": body}}
}

// Button is a tap on a template's quick-reply button (Meta's marketing
// opt-out button, "Stop promotions", among them): a message of type
// button carrying the button's payload and label, in context of the
// template message.
func Button(from, payload, label, context string) Message {
	return Message{From: from, Type: "button", Context: context,
		Content: map[string]any{"payload": payload, "text": label}}
}

// ButtonReply is a tap on an interactive reply button.
func ButtonReply(from, id, title, context string) Message {
	return Message{From: from, Type: "interactive", Context: context, Content: map[string]any{
		"type": "button_reply", "button_reply": map[string]any{"id": id, "title": title}}}
}

// ListReply is a choice of a row in an interactive list.
func ListReply(from, id, title, description, context string) Message {
	return Message{From: from, Type: "interactive", Context: context, Content: map[string]any{
		"type": "list_reply", "list_reply": map[string]any{"id": id, "title": title, "description": description}}}
}

// Image is an image message: Meta sends the media's id, type and hash,
// never the bytes.
func Image(from, mediaID, mimeType, caption string) Message {
	c := map[string]any{"mime_type": mimeType, "sha256": "81d3bd8a8db4868c9520ed47186e8b7c5789e61ff79f7f834be6950b808a90d3", "id": mediaID}
	if caption != "" {
		c["caption"] = caption
	}
	return Message{From: from, Type: "image", Content: c}
}

// Unsupported is a message of a kind the Cloud API does not pass on (a
// poll, a view-once message): type unsupported with Meta's 131051 error.
func Unsupported(from string) Message {
	return Message{From: from, Type: "unsupported"}
}

// json is the message object as Meta sends it.
func (m Message) json() (map[string]any, string) {
	id := m.ID
	if id == "" {
		id = fmt.Sprintf("wamid.HBgLInbound%010d", inboundSeq.Add(1))
	}
	ts := m.Timestamp
	if ts.IsZero() {
		ts = time.Now()
	}
	typ := m.Type
	if typ == "" {
		typ = "text"
	}
	obj := map[string]any{"from": key(m.From), "id": id, "timestamp": strconv.FormatInt(ts.Unix(), 10), "type": typ}
	if m.Context != "" {
		obj["context"] = map[string]any{"from": DisplayPhoneNumber, "id": m.Context}
	}
	switch {
	case typ == "unsupported":
		obj["errors"] = []any{map[string]any{"code": 131051, "title": "Message type unknown",
			"message": "Message type unknown", "error_data": map[string]any{"details": "Message type is currently not supported."}}}
	case m.Content != nil:
		obj[typ] = m.Content
	}
	return obj, id
}

// InboundWebhook returns the body Meta would post for users' messages and
// its X-Hub-Signature-256 value under appSecret: one entry and change per
// message (Meta batches at most a few), each with the envelope, metadata
// and the sender's contacts entry of Meta's messages webhook reference. It
// also returns the wamids, in order.
func InboundWebhook(appSecret string, msgs ...Message) (body []byte, signatureHeader string, ids []string) {
	var entries []any
	for _, m := range msgs {
		obj, id := m.json()
		ids = append(ids, id)
		name := m.Name
		if name == "" {
			name = "Sheena Nelson"
		}
		entries = append(entries, map[string]any{"id": BusinessAccountID, "changes": []any{map[string]any{
			"field": "messages",
			"value": map[string]any{
				"messaging_product": "whatsapp",
				"metadata":          map[string]string{"display_phone_number": DisplayPhoneNumber, "phone_number_id": PhoneNumberID},
				"contacts":          []any{map[string]any{"profile": map[string]string{"name": name}, "wa_id": key(m.From)}},
				"messages":          []any{obj},
			},
		}}})
	}
	body, err := json.Marshal(map[string]any{"object": "whatsapp_business_account", "entry": entries})
	if err != nil {
		panic(err) // only maps and strings: cannot happen
	}
	return body, Sign(appSecret, body), ids
}

// PreferenceWebhook returns the user_preferences webhook Meta posts when a
// user stops ("stop") or resumes ("resume") the business's marketing
// messages in WhatsApp's own setting, signed under appSecret.
func PreferenceWebhook(appSecret, from, value string, at time.Time) (body []byte, signatureHeader string) {
	if at.IsZero() {
		at = time.Now()
	}
	detail := "User requested to stop marketing messages"
	if value == "resume" {
		detail = "User requested to resume marketing messages"
	}
	body, err := json.Marshal(map[string]any{"object": "whatsapp_business_account", "entry": []any{map[string]any{
		"id": BusinessAccountID, "changes": []any{map[string]any{
			"field": "user_preferences",
			"value": map[string]any{
				"messaging_product": "whatsapp",
				"metadata":          map[string]string{"display_phone_number": DisplayPhoneNumber, "phone_number_id": PhoneNumberID},
				"contacts":          []any{map[string]any{"wa_id": key(from)}},
				"user_preferences": []any{map[string]any{"wa_id": key(from), "detail": detail,
					"category": "marketing_messages", "value": value, "timestamp": at.Unix()}},
			},
		}},
	}}})
	if err != nil {
		panic(err)
	}
	return body, Sign(appSecret, body)
}

// UserSends is a user writing to the business through this fake Meta: it
// opens the customer-service window of each sender, as Meta does, so that
// free-form texts to them are accepted for 24 hours from the message's
// timestamp, and returns the webhook Meta would post, signed with
// AppSecret, with the wamids.
func (s *Server) UserSends(msgs ...Message) (body []byte, signatureHeader string, ids []string) {
	now := time.Now()
	s.mu.Lock()
	for i := range msgs {
		if msgs[i].Timestamp.IsZero() {
			msgs[i].Timestamp = now
		}
		if msgs[i].Type == "system" {
			continue
		}
		k := key(msgs[i].From)
		if msgs[i].Timestamp.After(s.windows[k]) {
			s.windows[k] = msgs[i].Timestamp
		}
	}
	s.mu.Unlock()
	return InboundWebhook(AppSecret, msgs...)
}

// windowOpen reports whether a free-form text to recipient k would be
// accepted now; s.mu must be held.
func (s *Server) windowOpen(k string) bool {
	last, ok := s.windows[k]
	return ok && time.Since(last) < 24*time.Hour
}
