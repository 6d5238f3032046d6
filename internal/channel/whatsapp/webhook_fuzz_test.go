package whatsapp_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/quoteflow/quoteflow/internal/channel/whatsapp"
	"github.com/quoteflow/quoteflow/internal/channel/whatsapp/whatsapptest"
)

// FuzzParseStatuses reads arbitrary webhook bodies. Whatever is not JSON is
// an error; whatever is read has an id on every status, a timestamp that
// is zero or a positive UTC second, and valid UTF-8 in every string (they
// are stored); and the statuses read, written again as Meta would send
// them, read back the same.
func FuzzParseStatuses(f *testing.F) {
	body, _ := whatsapptest.StatusWebhook("s",
		whatsapptest.Status{ProviderMessageID: "wamid.1", Status: "delivered", RecipientID: "351912345678", AttemptID: "a1"},
		whatsapptest.Status{ProviderMessageID: "wamid.2", Status: "failed", PhoneNumberID: "p2",
			Errors: []whatsapp.StatusError{{Code: 131026, Title: "Message undeliverable", Message: "m", Details: "d"}}})
	f.Add(body)
	for _, s := range []string{`{}`, `null`, `[]`, `{"entry":null}`, `{"entry":[{"changes":[{"value":{"statuses":[{"id":""}]}}]}]}`,
		`{"entry":[{"changes":[{"value":{"metadata":{"phone_number_id":"1"},"statuses":[{"id":"w","timestamp":1700000000,"errors":[{"code":"131047"}]}]}}]}]}`,
		`{"entry":[{"changes":[{"value":{"statuses":[{"id":"w","timestamp":"-5","errors":[{"code":{}}]}]}}]}]}`,
		`{"entry":[{"changes":[{"value":{"statuses":[{"id":"\ud800","timestamp":"9999999999999999999"}]}}]}]}`,
		`{"entry":[{"changes":[{"value":{"statuses":[{"id":"w","timestamp":true}]}}]}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := whatsapp.ParseStatuses(body)
		if !json.Valid(body) && err == nil {
			t.Fatalf("ParseStatuses accepts a body that is not JSON: %q", body)
		}
		if err != nil {
			if got != nil {
				t.Fatalf("ParseStatuses failed with %v but returned %d statuses", err, len(got))
			}
			return
		}
		for i, st := range got {
			if st.ProviderMessageID == "" {
				t.Fatalf("status %d has no id", i)
			}
			if !st.Timestamp.IsZero() && (st.Timestamp.Unix() <= 0 || st.Timestamp.Location().String() != "UTC" || st.Timestamp.Nanosecond() != 0) {
				t.Fatalf("status %d has timestamp %v", i, st.Timestamp)
			}
			for _, s := range []string{st.ProviderMessageID, st.Status, st.RecipientID, st.AttemptID, st.PhoneNumberID} {
				if !utf8.ValidString(s) {
					t.Fatalf("status %d has invalid UTF-8 %q", i, s)
				}
			}
		}
		if len(got) == 0 {
			return
		}
		// The fake writes a zero timestamp as now, an empty phone number id
		// as its own, errors only on a failed status and a missing title or
		// message as the code's; expect exactly that.
		want := make([]whatsapp.Status, len(got))
		for i, st := range got {
			if st.Timestamp.IsZero() {
				st.Timestamp = time.Unix(1700000000, 0).UTC()
			}
			if st.PhoneNumberID == "" {
				st.PhoneNumberID = whatsapptest.PhoneNumberID
			}
			if st.Status != "failed" {
				st.Errors = nil
			}
			st.Errors = slices.Clone(st.Errors)
			for k, e := range st.Errors {
				if e.Title == "" {
					e.Title = whatsapptest.Title(e.Code)
				}
				if e.Message == "" {
					e.Message = e.Title
				}
				st.Errors[k] = e
			}
			want[i] = st
		}
		again, _ := whatsapptest.StatusWebhook("s", want...)
		back, err := whatsapp.ParseStatuses(again)
		if err != nil {
			t.Fatalf("the statuses written again do not parse: %v\n%s", err, again)
		}
		if !reflect.DeepEqual(back, want) {
			t.Fatalf("statuses do not survive a round trip:\n%+v\n%+v", want, back)
		}
	})
}

// FuzzVerifySignature checks the X-Hub-Signature-256 test against its
// definition: true exactly when the secret is set and the header is
// "sha256=" and the hex HMAC-SHA256 of the body (hex in either case). A
// correct header with anything appended or removed is false.
func FuzzVerifySignature(f *testing.F) {
	f.Add("secret", []byte(`{"entry":[]}`), "sha256=00")
	f.Add("secret", []byte(`{}`), whatsapptest.Sign("secret", []byte(`{}`)))
	f.Add("", []byte(`{}`), whatsapptest.Sign("", []byte(`{}`)))
	f.Add("s", []byte(``), "SHA256="+strings.Repeat("0", 64))
	f.Fuzz(func(t *testing.T, secret string, body []byte, header string) {
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(body)
		sum := mac.Sum(nil)
		hexSig, prefixed := strings.CutPrefix(header, "sha256=")
		got, err := hex.DecodeString(hexSig)
		want := secret != "" && prefixed && err == nil && bytes.Equal(got, sum)
		if v := whatsapp.VerifySignature(secret, body, header); v != want {
			t.Fatalf("VerifySignature(%q, %q, %q) = %v, want %v", secret, body, header, v, want)
		}
		good := "sha256=" + hex.EncodeToString(sum)
		if secret == "" {
			if whatsapp.VerifySignature(secret, body, good) {
				t.Fatal("an empty secret accepts its own signature")
			}
			return
		}
		for _, h := range []string{good, "sha256=" + strings.ToUpper(good[7:])} {
			if !whatsapp.VerifySignature(secret, body, h) {
				t.Fatalf("the correct signature %q is refused", h)
			}
		}
		for _, h := range []string{good + "0", good[:len(good)-2], " " + good, "SHA256=" + good[7:], good[7:]} {
			if whatsapp.VerifySignature(secret, body, h) {
				t.Fatalf("a corrupted signature %q is accepted", h)
			}
		}
		if whatsapp.VerifySignature(secret, append(bytes.Clone(body), ' '), good) {
			t.Fatal("the signature of the body accepts the body with a byte more")
		}
	})
}
