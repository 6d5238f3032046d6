package whatsapp

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/quoteflow/quoteflow/internal/channel"
)

// SignatureHeader is the header in which Meta signs webhook bodies.
const SignatureHeader = "X-Hub-Signature-256"

// VerifySignature reports whether header, the X-Hub-Signature-256 value, is
// Meta's signature of the raw body under appSecret. It needs the "sha256="
// prefix, compares in constant time, and is false for an empty secret so that
// an unconfigured tenant accepts nothing.
func VerifySignature(appSecret string, body []byte, header string) bool {
	if appSecret == "" {
		return false
	}
	hexSig, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return false
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil || len(got) != sha256.Size {
		return false
	}
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}

// VerifyChallenge answers Meta's subscription handshake: for
// hub.mode=subscribe with hub.verify_token equal to verifyToken it returns
// hub.challenge, which the handler echoes as the response body. An empty
// verifyToken matches nothing.
func VerifyChallenge(q url.Values, verifyToken string) (challenge string, ok bool) {
	if verifyToken == "" || q.Get("hub.mode") != "subscribe" {
		return "", false
	}
	if subtle.ConstantTimeCompare([]byte(q.Get("hub.verify_token")), []byte(verifyToken)) != 1 {
		return "", false
	}
	challenge = q.Get("hub.challenge")
	return challenge, challenge != ""
}

// Status is one message status receipt from a webhook.
type Status struct {
	// ProviderMessageID is the wamid that Send returned.
	ProviderMessageID string
	// Status is "sent", "delivered", "read" or "failed" (Meta may add
	// others; they are passed through).
	Status    string
	Timestamp time.Time
	// RecipientID is the user's WhatsApp id, usually their number without +.
	RecipientID string
	// AttemptID is the biz_opaque_callback_data Send attached.
	AttemptID string
	// PhoneNumberID is the business number the message was sent from.
	PhoneNumberID string
	// Errors explain a failed status.
	Errors []StatusError
}

// StatusError is one error of a failed status.
type StatusError struct {
	Code    int
	Title   string
	Message string
	Details string
}

// Class returns what the failure means for delivery, by the same table as
// synchronous errors: 131026 (undeliverable) is Recipient, and so on.
func (e StatusError) Class() channel.Class { return ClassOfCode(e.Code) }

// webhookPayload is the part of Meta's webhook body that carries statuses.
// Inbound messages, contacts, conversation and pricing are not read.
type webhookPayload struct {
	Entry []struct {
		Changes []struct {
			Value struct {
				Metadata struct {
					PhoneNumberID string `json:"phone_number_id"`
				} `json:"metadata"`
				Statuses []struct {
					ID                    string          `json:"id"`
					Status                string          `json:"status"`
					Timestamp             json.RawMessage `json:"timestamp"`
					RecipientID           string          `json:"recipient_id"`
					BizOpaqueCallbackData string          `json:"biz_opaque_callback_data"`
					Errors                []struct {
						Code      metaCode `json:"code"`
						Title     string   `json:"title"`
						Message   string   `json:"message"`
						ErrorData struct {
							Details string `json:"details"`
						} `json:"error_data"`
					} `json:"errors"`
				} `json:"statuses"`
			} `json:"value"`
		} `json:"changes"`
	} `json:"entry"`
}

// ParseStatuses returns the status receipts in a webhook body, in the order
// Meta sent them, across all entries and changes. Other changes (inbound
// messages, template updates) yield nothing; a status without an id cannot be
// matched to a message and is skipped. Only a body that is not JSON of the
// expected shape is an error, because Meta resends a webhook that is not
// acknowledged, and an unreadable field would fail the same way every time.
func ParseStatuses(body []byte) ([]Status, error) {
	var p webhookPayload
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, fmt.Errorf("whatsapp webhook body: %w", err)
	}
	var out []Status
	for _, e := range p.Entry {
		for _, c := range e.Changes {
			for _, st := range c.Value.Statuses {
				if st.ID == "" {
					continue
				}
				s := Status{
					ProviderMessageID: st.ID,
					Status:            st.Status,
					Timestamp:         parseUnix(st.Timestamp),
					RecipientID:       st.RecipientID,
					AttemptID:         st.BizOpaqueCallbackData,
					PhoneNumberID:     c.Value.Metadata.PhoneNumberID,
				}
				for _, er := range st.Errors {
					s.Errors = append(s.Errors, StatusError{Code: er.Code.n, Title: er.Title, Message: er.Message, Details: er.ErrorData.Details})
				}
				out = append(out, s)
			}
		}
	}
	return out, nil
}

// parseUnix reads Meta's timestamp, unix seconds as a string (or, leniently,
// a number); anything else is the zero time.
func parseUnix(raw json.RawMessage) time.Time {
	s := strings.Trim(string(raw), `"`)
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}
	}
	return time.Unix(n, 0).UTC()
}
