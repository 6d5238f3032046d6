package whatsapp_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/channel"
	"github.com/quoteflow/quoteflow/internal/channel/whatsapp/whatsapptest"
)

func textMessage(to, text string) *channel.Message {
	return &channel.Message{MessageID: "msg_1", AttemptID: "att_1", TenantID: "ten_1", To: to, WhatsAppText: text}
}

// TestSendTextInsideAndOutsideTheWindow: a free-form text is a Cloud API
// "text" message with our attempt id; Meta accepts it inside the 24 hours
// after the user's last message and refuses it with 131047 outside them,
// which is the Window class.
func TestSendTextInsideAndOutsideTheWindow(t *testing.T) {
	t.Parallel()
	srv, s := setup(t)
	_, err := s.Send(context.Background(), textMessage(lead, "Hi Ana, any questions about the quote?"))
	if e := chErr(t, err); e.Class != channel.Window || e.Code != "131047" {
		t.Fatalf("before any reply: %v, want window 131047", err)
	}
	srv.UserSends(whatsapptest.Text(lead, "Hello?"))
	res, err := s.Send(context.Background(), textMessage(lead, "Hi Ana, any questions about the quote?"))
	if err != nil {
		t.Fatalf("inside the window: %v", err)
	}
	reqs := srv.Requests()
	r := reqs[len(reqs)-1]
	if res.ProviderMessageID != r.WAMID {
		t.Fatalf("result %q, fake issued %q", res.ProviderMessageID, r.WAMID)
	}
	var got map[string]any
	if err := json.Unmarshal(r.Raw, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"messaging_product":        "whatsapp",
		"recipient_type":           "individual",
		"to":                       "351912345678",
		"type":                     "text",
		"text":                     map[string]any{"preview_url": false, "body": "Hi Ana, any questions about the quote?"},
		"biz_opaque_callback_data": "att_1",
	}
	if g, w := mustJSON(t, got), mustJSON(t, want); g != w {
		t.Fatalf("body\n got %s\nwant %s", g, w)
	}
	// A reply more than a day old has closed the window again.
	old := whatsapptest.Text("+351912345679", "Yesterday's question")
	old.Timestamp = time.Now().Add(-25 * time.Hour)
	srv.UserSends(old)
	if _, err := s.Send(context.Background(), textMessage("+351912345679", "Late answer")); chErr(t, err).Class != channel.Window {
		t.Fatalf("25 hours after the reply: %v, want window", err)
	}
}

func TestSendTextTooLongIsRefusedLocally(t *testing.T) {
	t.Parallel()
	srv, s := setup(t)
	srv.UserSends(whatsapptest.Text(lead, "Hello?"))
	_, err := s.Send(context.Background(), textMessage(lead, strings.Repeat("a", 4097)))
	if e := chErr(t, err); e.Class != channel.Request || e.Code != "text_too_long" {
		t.Fatalf("%v, want request text_too_long", err)
	}
	if n := srv.Attempts(lead); n != 0 {
		t.Fatalf("%d requests reached Meta", n)
	}
}
