package whatsapp_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/channel"
	"github.com/quoteflow/quoteflow/internal/channel/whatsapp"
	"github.com/quoteflow/quoteflow/internal/channel/whatsapp/whatsapptest"
)

func TestVerifySignature(t *testing.T) {
	t.Parallel()
	body := []byte(`{"object":"whatsapp_business_account","entry":[]}`)
	mac := hmac.New(sha256.New, []byte("s3cret"))
	mac.Write(body)
	good := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	if whatsapptest.Sign("s3cret", body) != good {
		t.Fatal("Sign disagrees with a plain HMAC-SHA256")
	}
	for _, c := range []struct {
		name   string
		secret string
		body   []byte
		header string
		want   bool
	}{
		{"valid", "s3cret", body, good, true},
		{"tampered body", "s3cret", append([]byte(nil), append(body[:len(body)-1], ' ', '}')...), good, false},
		{"wrong secret", "other", body, good, false},
		{"missing prefix", "s3cret", body, strings.TrimPrefix(good, "sha256="), false},
		{"sha1 prefix", "s3cret", body, "sha1=" + strings.TrimPrefix(good, "sha256="), false},
		{"uppercase prefix", "s3cret", body, "SHA256=" + strings.TrimPrefix(good, "sha256="), false},
		{"empty header", "s3cret", body, "", false},
		{"not hex", "s3cret", body, "sha256=zz", false},
		{"truncated", "s3cret", body, good[:len(good)-2], false},
		{"empty secret", "", body, whatsapptest.Sign("", body), false},
	} {
		if got := whatsapp.VerifySignature(c.secret, c.body, c.header); got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

func TestVerifyChallenge(t *testing.T) {
	t.Parallel()
	q := func(s string) url.Values {
		v, err := url.ParseQuery(s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, c := range []struct {
		query, token, want string
		ok                 bool
	}{
		{"hub.mode=subscribe&hub.verify_token=tok&hub.challenge=1158201444", "tok", "1158201444", true},
		{"hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1", "tok", "", false},
		{"hub.mode=unsubscribe&hub.verify_token=tok&hub.challenge=1", "tok", "", false},
		{"hub.verify_token=tok&hub.challenge=1", "tok", "", false},
		{"hub.mode=subscribe&hub.verify_token=tok", "tok", "", false},
		{"hub.mode=subscribe&hub.verify_token=&hub.challenge=1", "", "", false},
	} {
		got, ok := whatsapp.VerifyChallenge(q(c.query), c.token)
		if got != c.want || ok != c.ok {
			t.Errorf("%s with %q: got %q %v", c.query, c.token, got, ok)
		}
	}
}

// batchedWebhook is shaped like what Meta posts: two entries, an inbound
// message beside statuses, a template status change, conversation and
// pricing objects, and fields this package does not know.
const batchedWebhook = `{
  "object": "whatsapp_business_account",
  "entry": [
    {
      "id": "102290129340398",
      "changes": [
        {
          "field": "messages",
          "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
            "contacts": [{"profile": {"name": "Sheena Nelson"}, "wa_id": "16505551234"}],
            "messages": [{"from": "16505551234", "id": "wamid.INBOUND", "timestamp": "1749416383", "type": "text", "text": {"body": "Does it come in another color?"}}],
            "statuses": [
              {
                "id": "wamid.A",
                "status": "sent",
                "timestamp": "1750263773",
                "recipient_id": "351912345678",
                "biz_opaque_callback_data": "att_A",
                "conversation": {"id": "6ceb9d929c0d0ec2a4e2e3d52e2f2a2d", "expiration_timestamp": "1750350173", "origin": {"type": "utility"}},
                "pricing": {"billable": true, "pricing_model": "PMP", "category": "utility", "type": "regular"},
                "a_field_from_the_future": {"nested": [1, 2, 3]}
              },
              {
                "id": "wamid.B",
                "status": "failed",
                "timestamp": "1750263780",
                "recipient_id": "351911111111",
                "biz_opaque_callback_data": "att_B",
                "errors": [
                  {
                    "code": 131026,
                    "title": "Message undeliverable",
                    "message": "Message undeliverable",
                    "error_data": {"details": "Message Undeliverable."},
                    "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"
                  }
                ]
              }
            ]
          }
        },
        {
          "field": "message_template_status_update",
          "value": {"event": "APPROVED", "message_template_id": 123, "message_template_name": "quote_sent", "message_template_language": "en_US"}
        }
      ]
    },
    {
      "id": "102290129340399",
      "changes": [
        {
          "field": "messages",
          "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550000002", "phone_number_id": "206540352242922"},
            "statuses": [
              {"id": "wamid.C", "status": "read", "timestamp": "1750263800", "recipient_id": "4915112345678"},
              {"status": "delivered", "timestamp": "1750263801", "recipient_id": "4915112345678"}
            ]
          }
        }
      ]
    }
  ]
}`

func TestParseStatusesBatched(t *testing.T) {
	t.Parallel()
	got, err := whatsapp.ParseStatuses([]byte(batchedWebhook))
	if err != nil {
		t.Fatal(err)
	}
	want := []whatsapp.Status{
		{ProviderMessageID: "wamid.A", Status: "sent", Timestamp: time.Unix(1750263773, 0).UTC(), RecipientID: "351912345678", AttemptID: "att_A", PhoneNumberID: "106540352242922"},
		{ProviderMessageID: "wamid.B", Status: "failed", Timestamp: time.Unix(1750263780, 0).UTC(), RecipientID: "351911111111", AttemptID: "att_B", PhoneNumberID: "106540352242922",
			Errors: []whatsapp.StatusError{{Code: 131026, Title: "Message undeliverable", Message: "Message undeliverable", Details: "Message Undeliverable."}}},
		{ProviderMessageID: "wamid.C", Status: "read", Timestamp: time.Unix(1750263800, 0).UTC(), RecipientID: "4915112345678", PhoneNumberID: "206540352242922"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("statuses\n got %+v\nwant %+v", got, want)
	}
	if c := got[1].Errors[0].Class(); c != channel.Recipient {
		t.Fatalf("131026 in a receipt is %s, want recipient", c)
	}
}

func TestParseStatusesEdges(t *testing.T) {
	t.Parallel()
	for _, body := range []string{`{}`, `{"object":"whatsapp_business_account","entry":[]}`, `{"entry":[{"changes":[{"value":{}}]}]}`} {
		got, err := whatsapp.ParseStatuses([]byte(body))
		if err != nil || len(got) != 0 {
			t.Errorf("%s: %v %v", body, got, err)
		}
	}
	for _, body := range []string{``, `not json`, `{"entry":"nope"}`} {
		if _, err := whatsapp.ParseStatuses([]byte(body)); err == nil {
			t.Errorf("%q parsed", body)
		}
	}
	// A numeric timestamp and a quoted code are read; a bad timestamp is
	// the zero time rather than a rejected webhook.
	got, err := whatsapp.ParseStatuses([]byte(`{"entry":[{"changes":[{"value":{"statuses":[
		{"id":"w1","status":"failed","timestamp":1750263773,"errors":[{"code":"131049"}]},
		{"id":"w2","status":"sent","timestamp":"yesterday"}]}}]}]}`))
	if err != nil || len(got) != 2 {
		t.Fatalf("%v %v", got, err)
	}
	if got[0].Timestamp.Unix() != 1750263773 || got[0].Errors[0].Code != 131049 || !got[1].Timestamp.IsZero() {
		t.Fatalf("%+v", got)
	}
}

func TestStatusWebhookRoundTrip(t *testing.T) {
	t.Parallel()
	srv, s := setup(t)
	if _, err := s.Send(context.Background(), message(lead, "Ana")); err != nil {
		t.Fatal(err)
	}
	sent := srv.Requests()[0]
	ts := time.Unix(1750263773, 0).UTC()
	in := []whatsapptest.Status{
		{ProviderMessageID: sent.WAMID, Status: "delivered", Timestamp: ts, RecipientID: "351912345678", AttemptID: "att_1", PhoneNumberID: whatsapptest.PhoneNumberID},
		{ProviderMessageID: "wamid.other", Status: "failed", Timestamp: ts, RecipientID: "14155550100", AttemptID: "att_2", PhoneNumberID: "999",
			Errors: []whatsapp.StatusError{{Code: 131026, Title: "Message undeliverable", Message: "Message undeliverable", Details: "not on WhatsApp"}}},
	}
	body, sig := whatsapptest.StatusWebhook(whatsapptest.AppSecret, in...)
	if !whatsapp.VerifySignature(whatsapptest.AppSecret, body, sig) {
		t.Fatal("fake's signature does not verify")
	}
	if whatsapp.VerifySignature("other-secret", body, sig) {
		t.Fatal("signature verifies under another secret")
	}
	got, err := whatsapp.ParseStatuses(body)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, in) {
		t.Fatalf("round trip\n got %+v\nwant %+v", got, in)
	}
	r := sent.Receipt("read")
	if r.ProviderMessageID != sent.WAMID || r.AttemptID != "att_1" || r.RecipientID != "351912345678" || r.PhoneNumberID != whatsapptest.PhoneNumberID {
		t.Fatalf("receipt %+v", r)
	}
}
