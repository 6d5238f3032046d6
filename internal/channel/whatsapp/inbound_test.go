package whatsapp_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/channel/whatsapp"
	"github.com/quoteflow/quoteflow/internal/channel/whatsapp/whatsapptest"
)

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "inbound", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestParseInboundMetaPayloads reads the messages webhook bodies of Meta's
// webhook reference (testdata/inbound, one per kind of message) and checks
// what each yields.
func TestParseInboundMetaPayloads(t *testing.T) {
	t.Parallel()
	const phoneID, from, name = "106540352242922", "16505551234", "Sheena Nelson"
	const tapped = "wamid.HBgLMTQxMjU1NTA4MjkVAgASGBQzQUNCNjk5RDUwNUZGMUZEM0VBRAA="
	for _, c := range []struct {
		file string
		want []whatsapp.Inbound
	}{
		{"text.json", []whatsapp.Inbound{{ID: "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=", Type: "text",
			Text: "Does it come in another color?", Timestamp: time.Unix(1749416383, 0).UTC()}}},
		{"button.json", []whatsapp.Inbound{{ID: "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA=", Type: "button",
			Text: "Stop promotions", Payload: "Stop promotions", ContextID: tapped, Timestamp: time.Unix(1739321024, 0).UTC()}}},
		{"interactive.json", []whatsapp.Inbound{
			{ID: "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTAyMjRCMjk1NDQ5NTZCMTdCNwA=", Type: "interactive", Text: "Cancel",
				Payload: "cancel-button", ContextID: tapped, Timestamp: time.Unix(1750096325, 0).UTC()},
			{ID: "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUQ0N0VFMDA2MTQ0RkJFNkNDNAA=", Type: "interactive", Text: "Express Shipping",
				Payload: "priority-express", ContextID: tapped, Timestamp: time.Unix(1750096330, 0).UTC()},
		}},
		{"image.json", []whatsapp.Inbound{{ID: "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUJBMzVBNzc1NTZFNEJFMkNEMAA=", Type: "image",
			Text: "This is a caption", Timestamp: time.Unix(1744344496, 0).UTC(), Media: &whatsapp.Media{ID: "2754859441498128",
				MimeType: "image/jpeg", SHA256: "81d3bd8a8db4868c9520ed47186e8b7c5789e61ff79f7f834be6950b808a90d3"}}}},
		// Kinds the parser does not know keep their type and raw object.
		{"unsupported.json", []whatsapp.Inbound{
			{ID: "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQkE4NDJGNzNGOTQ2MDRDMUFGRgA=", Type: "unsupported", Timestamp: time.Unix(1744344496, 0).UTC()},
			{ID: "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQkE4NDJGNzNGOTQ2MDRDMUFGRwA=", Type: "hologram", Timestamp: time.Unix(1744344497, 0).UTC()},
		}},
	} {
		t.Run(c.file, func(t *testing.T) {
			body := fixture(t, c.file)
			got, prefs, err := whatsapp.ParseInbound(body)
			if err != nil || len(prefs) != 0 {
				t.Fatalf("ParseInbound: %v, preferences %v", err, prefs)
			}
			if len(got) != len(c.want) {
				t.Fatalf("%d messages, want %d: %+v", len(got), len(c.want), got)
			}
			for i := range got {
				var obj map[string]any
				if err := json.Unmarshal(got[i].Raw, &obj); err != nil || obj["id"] != got[i].ID || obj["type"] != got[i].Type {
					t.Errorf("message %d: raw %s is not the message object (%v)", i, got[i].Raw, err)
				}
				got[i].Raw = nil
				w := c.want[i]
				w.PhoneNumberID, w.From, w.WaID, w.ProfileName = phoneID, from, from, name
				if !reflect.DeepEqual(got[i], w) {
					t.Errorf("message %d:\n got %+v\nwant %+v", i, got[i], w)
				}
			}
			// A body of users' messages carries no status receipt.
			if sts, err := whatsapp.ParseStatuses(body); err != nil || len(sts) != 0 {
				t.Errorf("ParseStatuses: %v %v", sts, err)
			}
		})
	}
}

func TestParseInboundPreferences(t *testing.T) {
	t.Parallel()
	msgs, prefs, err := whatsapp.ParseInbound(fixture(t, "user_preferences.json"))
	if err != nil || len(msgs) != 0 {
		t.Fatalf("%v %v", msgs, err)
	}
	want := []whatsapp.Preference{{PhoneNumberID: "106540352242922", WaID: "16505551234", Category: "marketing_messages",
		Value: "stop", Detail: "User requested to stop marketing messages", Timestamp: time.Unix(1731705721, 0).UTC()}}
	if !reflect.DeepEqual(prefs, want) {
		t.Fatalf("preferences %+v, want %+v", prefs, want)
	}
}

// TestParseInboundOddShapes: a message whose content is not the shape
// documented is kept with its type and raw object; one without an id or
// a sender cannot be told from a redelivery and is skipped; a status
// webhook has no messages; a body that is not JSON is an error.
func TestParseInboundOddShapes(t *testing.T) {
	t.Parallel()
	body := `{"entry":[{"changes":[{"value":{"messages":[
		{"from":"351912345678","id":"wamid.odd","timestamp":1700000000,"type":"text","text":"not an object"},
		{"from":"351912345678","type":"text","text":{"body":"no id"}},
		{"id":"wamid.nofrom","type":"text","text":{"body":"no sender"}},
		{"from":"351912345678","id":"wamid.notype","timestamp":"1700000001"},
		"not a message at all"
	]}}]}]}`
	got, _, err := whatsapp.ParseInbound([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != "wamid.odd" || got[0].Type != "text" || got[0].Text != "" ||
		!strings.Contains(string(got[0].Raw), `"not an object"`) || got[1].ID != "wamid.notype" || got[1].Type != "" {
		t.Fatalf("got %+v", got)
	}
	if !got[0].Timestamp.Equal(time.Unix(1700000000, 0)) {
		t.Errorf("a numeric timestamp read as %v", got[0].Timestamp)
	}
	st, _ := whatsapptest.StatusWebhook(whatsapptest.AppSecret, whatsapptest.Status{ProviderMessageID: "wamid.s", Status: "delivered"})
	if msgs, prefs, err := whatsapp.ParseInbound(st); err != nil || len(msgs)+len(prefs) != 0 {
		t.Errorf("a status webhook yielded %v %v %v", msgs, prefs, err)
	}
	if _, _, err := whatsapp.ParseInbound([]byte(`{"entry": 1}`)); err == nil {
		t.Error("a body of the wrong shape is not an error")
	}
}

// TestInboundWebhookIsShapedAsMetaDocuments: the fake's builder, which the
// end-to-end tests post, writes the same JSON as Meta's reference payloads
// in testdata.
func TestInboundWebhookIsShapedAsMetaDocuments(t *testing.T) {
	t.Parallel()
	const from = "16505551234"
	tapped := "wamid.HBgLMTQxMjU1NTA4MjkVAgASGBQzQUNCNjk5RDUwNUZGMUZEM0VBRAA="
	at := func(s int64) time.Time { return time.Unix(s, 0) }
	text := whatsapptest.Text(from, "Does it come in another color?")
	text.ID, text.Timestamp = "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=", at(1749416383)
	button := whatsapptest.Button(from, "Stop promotions", "Stop promotions", tapped)
	button.ID, button.Timestamp = "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA=", at(1739321024)
	image := whatsapptest.Image(from, "2754859441498128", "image/jpeg", "This is a caption")
	image.ID, image.Timestamp = "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUJBMzVBNzc1NTZFNEJFMkNEMAA=", at(1744344496)
	for file, m := range map[string]whatsapptest.Message{"text.json": text, "button.json": button, "image.json": image} {
		built, sig, _ := whatsapptest.InboundWebhook(whatsapptest.AppSecret, m)
		if !whatsapp.VerifySignature(whatsapptest.AppSecret, built, sig) {
			t.Errorf("%s: the builder's signature does not verify", file)
		}
		var a, b any
		if err := json.Unmarshal(built, &a); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(fixture(t, file), &b); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: the builder writes\n%s", file, built)
		}
	}
}
