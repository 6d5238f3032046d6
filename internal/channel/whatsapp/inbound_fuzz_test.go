package whatsapp_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"

	"github.com/quoteflow/quoteflow/internal/channel/whatsapp"
)

// FuzzParseInbound reads arbitrary webhook bodies. Whatever is not JSON is
// an error; every message read has an id and a sender, its raw object is
// JSON naming that id, its timestamp is zero or a positive UTC second, and
// its strings are valid UTF-8 (JSON decoding makes them so; the store
// cleans the raw bytes). Nothing panics, whatever the shape of a message.
func FuzzParseInbound(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "inbound", "*.json"))
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	for _, s := range []string{`{}`, `null`, `{"entry":[{"changes":[{"value":{"messages":[null,1,"x",{"id":"w","from":"1"}]}}]}]}`,
		`{"entry":[{"changes":[{"value":{"messages":[{"id":"w","from":"1","type":"interactive","interactive":{"type":"nfm_reply","nfm_reply":{"body":"b"}}}]}}]}]}`,
		`{"entry":[{"changes":[{"value":{"messages":[{"id":"w","from":"1","type":"system","system":{"type":"user_preference_changed","marketing":"STOP"}}]}}]}]}`,
		`{"entry":[{"changes":[{"value":{"messages":[{"id":"w","from":"1","type":"text","text":{"body":"\u0000\ud800"},"timestamp":"-1"}]}}]}]}`,
		`{"entry":[{"changes":[{"value":{"user_preferences":[{"wa_id":"1","value":"STOP","timestamp":"x"}]}}]}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		msgs, prefs, err := whatsapp.ParseInbound(body)
		if !json.Valid(body) && err == nil {
			t.Fatalf("ParseInbound accepts a body that is not JSON: %q", body)
		}
		if err != nil {
			if msgs != nil || prefs != nil {
				t.Fatalf("ParseInbound failed with %v but returned %d messages", err, len(msgs))
			}
			return
		}
		for i, m := range msgs {
			if m.ID == "" || m.From == "" {
				t.Fatalf("message %d has no id or sender: %+v", i, m)
			}
			var head struct {
				ID string `json:"id"`
			}
			if json.Unmarshal(m.Raw, &head) != nil || head.ID != m.ID {
				t.Fatalf("message %d: raw %q is not its object", i, m.Raw)
			}
			if !m.Timestamp.IsZero() && (m.Timestamp.Unix() <= 0 || m.Timestamp.Location().String() != "UTC" || m.Timestamp.Nanosecond() != 0) {
				t.Fatalf("message %d has timestamp %v", i, m.Timestamp)
			}
			for _, s := range []string{m.ID, m.From, m.WaID, m.ProfileName, m.Type, m.Text, m.Payload, m.ContextID, m.Preference} {
				if !utf8.ValidString(s) {
					t.Fatalf("message %d has invalid UTF-8 %q", i, s)
				}
			}
		}
		for i, p := range prefs {
			if !utf8.ValidString(p.Value) || !utf8.ValidString(p.WaID) {
				t.Fatalf("preference %d has invalid UTF-8", i)
			}
		}
	})
}
