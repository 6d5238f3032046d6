package whatsapptest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"time"

	"github.com/quoteflow/quoteflow/internal/channel/whatsapp"
)

// Status is a status receipt to put in a webhook; it is whatsapp.Status, so
// what ParseStatuses returns can be compared with what was built.
type Status = whatsapp.Status

// StatusWebhook returns the body Meta would post for statuses and its
// X-Hub-Signature-256 value under appSecret. Statuses are grouped into one
// entry per phone number id (PhoneNumberID when a status has none), in the
// order they first appear, each with Meta's envelope, metadata, and the
// conversation and pricing objects of a billable utility message. A zero
// Timestamp becomes now.
func StatusWebhook(appSecret string, statuses ...Status) (body []byte, signatureHeader string) {
	type change struct {
		Field string         `json:"field"`
		Value map[string]any `json:"value"`
	}
	type entry struct {
		ID      string   `json:"id"`
		Changes []change `json:"changes"`
	}
	var entries []*entry
	byPhone := map[string][]any{}
	var order []string
	for _, st := range statuses {
		phone := st.PhoneNumberID
		if phone == "" {
			phone = PhoneNumberID
		}
		if _, ok := byPhone[phone]; !ok {
			order = append(order, phone)
		}
		byPhone[phone] = append(byPhone[phone], statusJSON(st))
	}
	for _, phone := range order {
		entries = append(entries, &entry{ID: BusinessAccountID, Changes: []change{{
			Field: "messages",
			Value: map[string]any{
				"messaging_product": "whatsapp",
				"metadata":          map[string]string{"display_phone_number": DisplayPhoneNumber, "phone_number_id": phone},
				"statuses":          byPhone[phone],
			},
		}}})
	}
	body, err := json.Marshal(map[string]any{"object": "whatsapp_business_account", "entry": entries})
	if err != nil {
		panic(err) // only maps and strings: cannot happen
	}
	return body, Sign(appSecret, body)
}

// Sign returns the X-Hub-Signature-256 value Meta would send for body under
// appSecret: "sha256=" and the hex HMAC-SHA256 of the raw body. quoteflow
// only verifies signatures (whatsapp.VerifySignature); signing is Meta's
// side, so it lives with the fake.
func Sign(appSecret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

func statusJSON(st Status) map[string]any {
	ts := st.Timestamp
	if ts.IsZero() {
		ts = time.Now()
	}
	m := map[string]any{
		"id":           st.ProviderMessageID,
		"status":       st.Status,
		"timestamp":    strconv.FormatInt(ts.Unix(), 10),
		"recipient_id": st.RecipientID,
	}
	if st.AttemptID != "" {
		m["biz_opaque_callback_data"] = st.AttemptID
	}
	if st.Status == "failed" {
		var errs []map[string]any
		for _, e := range st.Errors {
			title := e.Title
			if title == "" {
				title = Title(e.Code)
			}
			msg := e.Message
			if msg == "" {
				msg = title
			}
			errs = append(errs, map[string]any{
				"code":       e.Code,
				"title":      title,
				"message":    msg,
				"error_data": map[string]string{"details": e.Details},
				"href":       "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
			})
		}
		m["errors"] = errs
		return m
	}
	conv := map[string]any{"id": "CONVERSATION_" + st.ProviderMessageID, "origin": map[string]string{"type": "utility"}}
	if st.Status == "sent" {
		conv["expiration_timestamp"] = strconv.FormatInt(ts.Add(24*time.Hour).Unix(), 10)
	}
	m["conversation"] = conv
	m["pricing"] = map[string]any{"billable": true, "pricing_model": "PMP", "category": "utility", "type": "regular"}
	return m
}
