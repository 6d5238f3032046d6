package whatsapp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Inbound is one message a WhatsApp user sent to the business number, from
// the messages field of a webhook (Meta's "messages webhook reference":
// text, button, interactive, media, reaction, location, contacts, system,
// unsupported, and whatever Meta adds).
type Inbound struct {
	// ID is Meta's wamid of the message; Meta redelivers a webhook until
	// it is acknowledged, so the same ID may arrive more than once.
	ID string
	// PhoneNumberID is the business number that received it.
	PhoneNumberID string
	// From is the sender's number as Meta gives it: digits, no +.
	From string
	// WaID and ProfileName come from the webhook's contacts entry for the
	// sender, when there is one.
	WaID        string
	ProfileName string
	Timestamp   time.Time
	// Type is Meta's type field as sent ("text", "button", "interactive",
	// "image", ...); empty when Meta sent none.
	Type string
	// Text is the part a person reads: a text's body, a button's label, an
	// interactive reply's title, a media caption, a location's name.
	Text string
	// Payload is the part a machine reads: a quick-reply button's payload,
	// an interactive reply's id, a reaction's emoji.
	Payload string
	// Media references an image, audio, video, document or sticker.
	Media *Media
	// ContextID is the wamid of the business message replied to (or
	// reacted to, or whose button was tapped).
	ContextID string
	// Preference is "stop" or "resume" for a system message reporting
	// that the user changed their marketing-messages preference.
	Preference string
	// Raw is the message object exactly as it was in the webhook.
	Raw json.RawMessage
}

// Media is the reference to a media message's content, which stays at
// Meta until fetched by its id.
type Media struct {
	ID       string
	MimeType string
	SHA256   string
	Filename string
}

// Preference is one entry of the user_preferences field: a user stopped
// or resumed the business's marketing messages through WhatsApp's own
// setting.
type Preference struct {
	PhoneNumberID string
	WaID          string
	// Category is "marketing_messages"; Value is "stop" or "resume".
	Category  string
	Value     string
	Detail    string
	Timestamp time.Time
}

// inboundPayload is the part of a webhook body that carries users'
// messages and preferences; statuses are ParseStatuses'.
type inboundPayload struct {
	Entry []struct {
		Changes []struct {
			Field string `json:"field"`
			Value struct {
				Metadata struct {
					PhoneNumberID string `json:"phone_number_id"`
				} `json:"metadata"`
				Contacts []struct {
					WaID    string `json:"wa_id"`
					Profile struct {
						Name string `json:"name"`
					} `json:"profile"`
				} `json:"contacts"`
				// Each message is decoded on its own, so that one of a
				// shape we do not know costs only its own details.
				Messages        []json.RawMessage `json:"messages"`
				UserPreferences []struct {
					WaID      string          `json:"wa_id"`
					Detail    string          `json:"detail"`
					Category  string          `json:"category"`
					Value     string          `json:"value"`
					Timestamp json.RawMessage `json:"timestamp"`
				} `json:"user_preferences"`
			} `json:"value"`
		} `json:"changes"`
	} `json:"entry"`
}

// messageHead is what every message has.
type messageHead struct {
	ID        string          `json:"id"`
	From      string          `json:"from"`
	Timestamp json.RawMessage `json:"timestamp"`
	Type      string          `json:"type"`
	Context   *struct {
		ID string `json:"id"`
	} `json:"context"`
}

// messageBody is the per-type content Inbound reads; every part is
// optional.
type messageBody struct {
	Text *struct {
		Body string `json:"body"`
	} `json:"text"`
	Button *struct {
		Payload string `json:"payload"`
		Text    string `json:"text"`
	} `json:"button"`
	Interactive *struct {
		Type        string `json:"type"`
		ButtonReply *struct {
			ID    string `json:"id"`
			Title string `json:"title"`
		} `json:"button_reply"`
		ListReply *struct {
			ID          string `json:"id"`
			Title       string `json:"title"`
			Description string `json:"description"`
		} `json:"list_reply"`
		NFMReply *struct {
			Name string `json:"name"`
			Body string `json:"body"`
		} `json:"nfm_reply"`
	} `json:"interactive"`
	Reaction *struct {
		MessageID string `json:"message_id"`
		Emoji     string `json:"emoji"`
	} `json:"reaction"`
	Location *struct {
		Name    string `json:"name"`
		Address string `json:"address"`
	} `json:"location"`
	System *struct {
		Body      string `json:"body"`
		Type      string `json:"type"`
		Marketing string `json:"marketing"`
	} `json:"system"`
	Image    *mediaObject `json:"image"`
	Video    *mediaObject `json:"video"`
	Audio    *mediaObject `json:"audio"`
	Document *mediaObject `json:"document"`
	Sticker  *mediaObject `json:"sticker"`
}

type mediaObject struct {
	ID       string `json:"id"`
	MimeType string `json:"mime_type"`
	SHA256   string `json:"sha256"`
	Caption  string `json:"caption"`
	Filename string `json:"filename"`
}

// ParseInbound returns the users' messages and marketing preferences in a
// webhook body, in the order Meta sent them. A message is kept whatever its
// type: one Meta has not documented, or whose content is not the shape
// expected, is returned with its Type, its Raw object and what could be
// read, never dropped. Only a message without an id or a sender is skipped,
// since nothing could tell a redelivery of it from a new one. As with
// ParseStatuses, only a body that is not a webhook at all is an error.
func ParseInbound(body []byte) ([]Inbound, []Preference, error) {
	var p inboundPayload
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, nil, fmt.Errorf("whatsapp webhook body: %w", err)
	}
	var msgs []Inbound
	var prefs []Preference
	for _, e := range p.Entry {
		for _, c := range e.Changes {
			v := c.Value
			for _, raw := range v.Messages {
				var head messageHead
				if json.Unmarshal(raw, &head) != nil || head.ID == "" || head.From == "" {
					continue
				}
				in := Inbound{ID: head.ID, PhoneNumberID: v.Metadata.PhoneNumberID, From: head.From,
					Timestamp: parseUnix(head.Timestamp), Type: head.Type, Raw: compactJSON(raw)}
				if head.Context != nil {
					in.ContextID = head.Context.ID
				}
				for i, ct := range v.Contacts {
					if ct.WaID == head.From || (len(v.Contacts) == 1 && i == 0) {
						in.WaID, in.ProfileName = ct.WaID, ct.Profile.Name
					}
				}
				var b messageBody
				if json.Unmarshal(raw, &b) == nil {
					in.read(&b)
				}
				msgs = append(msgs, in)
			}
			for _, up := range v.UserPreferences {
				prefs = append(prefs, Preference{PhoneNumberID: v.Metadata.PhoneNumberID, WaID: up.WaID, Category: up.Category,
					Value: strings.ToLower(up.Value), Detail: up.Detail, Timestamp: parseUnix(up.Timestamp)})
			}
		}
	}
	return msgs, prefs, nil
}

// read fills in what the message's type carries. It reads by the type
// Meta named, so that a text field on a button message means nothing.
func (in *Inbound) read(b *messageBody) {
	media := func(m *mediaObject) {
		if m != nil {
			in.Media = &Media{ID: m.ID, MimeType: m.MimeType, SHA256: m.SHA256, Filename: m.Filename}
			in.Text = m.Caption
		}
	}
	switch in.Type {
	case "text":
		if b.Text != nil {
			in.Text = b.Text.Body
		}
	case "button":
		if b.Button != nil {
			in.Text, in.Payload = b.Button.Text, b.Button.Payload
		}
	case "interactive":
		if it := b.Interactive; it != nil {
			switch {
			case it.ButtonReply != nil:
				in.Text, in.Payload = it.ButtonReply.Title, it.ButtonReply.ID
			case it.ListReply != nil:
				in.Text, in.Payload = it.ListReply.Title, it.ListReply.ID
			case it.NFMReply != nil:
				in.Text, in.Payload = it.NFMReply.Body, it.NFMReply.Name
			}
		}
	case "reaction":
		if b.Reaction != nil {
			in.Payload = b.Reaction.Emoji
			if in.ContextID == "" {
				in.ContextID = b.Reaction.MessageID
			}
		}
	case "location":
		if b.Location != nil {
			in.Text = strings.TrimSpace(b.Location.Name + " " + b.Location.Address)
		}
	case "system":
		if s := b.System; s != nil {
			in.Text = s.Body
			if s.Type == "user_preference_changed" {
				in.Preference = strings.ToLower(s.Marketing)
			}
		}
	case "image":
		media(b.Image)
	case "video":
		media(b.Video)
	case "audio":
		media(b.Audio)
	case "document":
		media(b.Document)
	case "sticker":
		media(b.Sticker)
	}
}

// compactJSON returns raw without insignificant space; raw came out of a
// successful decode, so it is valid JSON.
func compactJSON(raw json.RawMessage) json.RawMessage {
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return append(json.RawMessage(nil), raw...)
	}
	return buf.Bytes()
}
