package logsender_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/quoteflow/quoteflow/internal/channel"
	"github.com/quoteflow/quoteflow/internal/channel/logsender"
)

func emailMessage(i int) *channel.Message {
	return &channel.Message{
		MessageID: fmt.Sprintf("msg-%d", i),
		AttemptID: fmt.Sprintf("att-%d", i),
		TenantID:  "t1",
		To:        "lead@example.com",
		Email: &channel.Email{
			From:    "Acme <quotes@acme.example>",
			Subject: "Your quote Q-1",
			Text:    "secret body text",
			HTML:    "<p>secret body html</p>",
		},
	}
}

// logLines decodes the JSON lines a handler wrote.
func logLines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("bad log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

func TestSendEmailRecordsAndLogsWithoutBodyAtInfo(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	s := logsender.New(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})))

	m := emailMessage(1)
	res, err := s.Send(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	if res.ProviderMessageID != "log-att-1" {
		t.Errorf("ProviderMessageID = %q", res.ProviderMessageID)
	}

	m.Email.Subject = "changed after send"
	recs := s.Messages()
	if len(recs) != 1 {
		t.Fatalf("got %d records", len(recs))
	}
	r := recs[0]
	if r.TenantID != "t1" || r.MessageID != "msg-1" || r.AttemptID != "att-1" || r.To != "lead@example.com" ||
		r.ProviderMessageID != "log-att-1" || r.WhatsApp != nil || r.At.IsZero() {
		t.Errorf("record = %+v", r)
	}
	if r.Email == nil || r.Email.Subject != "Your quote Q-1" || r.Email.Text != "secret body text" {
		t.Errorf("record email = %+v (must be a copy taken at send time)", r.Email)
	}

	lines := logLines(t, &buf)
	if len(lines) != 1 {
		t.Fatalf("got %d log lines at info, want 1: %s", len(lines), buf.String())
	}
	l := lines[0]
	for k, want := range map[string]string{"level": "INFO", "tenant_id": "t1", "message_id": "msg-1",
		"attempt_id": "att-1", "to": "lead@example.com", "subject": "Your quote Q-1", "channel": "email"} {
		if l[k] != want {
			t.Errorf("log %s = %v, want %q", k, l[k], want)
		}
	}
	if strings.Contains(buf.String(), "secret body") {
		t.Errorf("info log contains the body: %s", buf.String())
	}
}

func TestSendLogsBodyAtDebug(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	s := logsender.New(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if _, err := s.Send(context.Background(), emailMessage(1)); err != nil {
		t.Fatal(err)
	}
	lines := logLines(t, &buf)
	if len(lines) != 2 {
		t.Fatalf("got %d log lines at debug, want 2: %s", len(lines), buf.String())
	}
	if lines[0]["level"] != "INFO" || lines[0]["text"] != nil {
		t.Errorf("first line = %v", lines[0])
	}
	d := lines[1]
	if d["level"] != "DEBUG" || d["text"] != "secret body text" || d["html"] != "<p>secret body html</p>" ||
		d["message_id"] != "msg-1" {
		t.Errorf("debug line = %v", d)
	}
}

func TestSendWhatsApp(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	s := logsender.New(slog.New(slog.NewJSONHandler(&buf, nil)))
	params := []string{"João", "€1.200,00"}
	res, err := s.Send(context.Background(), &channel.Message{
		MessageID: "m", AttemptID: "a", TenantID: "t", To: "+351912345678",
		WhatsApp: &channel.WhatsAppTemplate{Name: "quote_sent", Language: "pt_PT", Parameters: params},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.ProviderMessageID != "log-a" {
		t.Errorf("ProviderMessageID = %q", res.ProviderMessageID)
	}
	params[0] = "changed"
	r := s.Messages()[0]
	if r.Email != nil || r.WhatsApp == nil || r.WhatsApp.Name != "quote_sent" || r.WhatsApp.Parameters[0] != "João" {
		t.Errorf("record = %+v / %+v", r, r.WhatsApp)
	}
	l := logLines(t, &buf)[0]
	if l["template"] != "quote_sent" || l["language"] != "pt_PT" || l["channel"] != "whatsapp" {
		t.Errorf("log line = %v", l)
	}
	if strings.Contains(buf.String(), "João") {
		t.Errorf("info log contains parameters: %s", buf.String())
	}
}

func TestRingKeepsTheLastN(t *testing.T) {
	t.Parallel()
	s := logsender.NewWithCapacity(nil, 3)
	for i := range 2 {
		if _, err := s.Send(context.Background(), emailMessage(i)); err != nil {
			t.Fatal(err)
		}
	}
	if got := ids(s.Messages()); got != "msg-0,msg-1" {
		t.Errorf("before wrap: %s", got)
	}
	for i := 2; i < 8; i++ {
		if _, err := s.Send(context.Background(), emailMessage(i)); err != nil {
			t.Fatal(err)
		}
	}
	if got := ids(s.Messages()); got != "msg-5,msg-6,msg-7" {
		t.Errorf("after wrap: %s", got)
	}
}

func TestDefaultCapacity(t *testing.T) {
	t.Parallel()
	s := logsender.New(nil)
	for i := range logsender.DefaultCapacity + 5 {
		if _, err := s.Send(context.Background(), emailMessage(i)); err != nil {
			t.Fatal(err)
		}
	}
	recs := s.Messages()
	if len(recs) != logsender.DefaultCapacity || recs[0].MessageID != "msg-5" ||
		recs[len(recs)-1].MessageID != fmt.Sprintf("msg-%d", logsender.DefaultCapacity+4) {
		t.Errorf("got %d records, first %s", len(recs), recs[0].MessageID)
	}
}

func ids(rs []logsender.Record) string {
	var s []string
	for _, r := range rs {
		s = append(s, r.MessageID)
	}
	return strings.Join(s, ",")
}

func TestConcurrentSends(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	s := logsender.NewWithCapacity(slog.New(slog.NewJSONHandler(&buf, nil)), 50)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 25 {
				if _, err := s.Send(context.Background(), emailMessage(g*100+i)); err != nil {
					t.Error(err)
				}
				_ = s.Messages()
			}
		})
	}
	wg.Wait()
	if n := len(s.Messages()); n != 50 {
		t.Errorf("kept %d, want 50", n)
	}
	if n := len(logLines(t, &buf)); n != 200 {
		t.Errorf("logged %d lines, want 200", n)
	}
}

func TestSendErrors(t *testing.T) {
	t.Parallel()
	s := logsender.New(nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.Send(ctx, emailMessage(1))
	if channel.ClassOf(err) != channel.Transient || !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: %v (class %s)", err, channel.ClassOf(err))
	}
	_, err = s.Send(context.Background(), &channel.Message{MessageID: "m"})
	if channel.ClassOf(err) != channel.Request {
		t.Errorf("empty: %v (class %s)", err, channel.ClassOf(err))
	}
	_, err = s.Send(context.Background(), nil)
	if channel.ClassOf(err) != channel.Request {
		t.Errorf("nil: %v", err)
	}
	if n := len(s.Messages()); n != 0 {
		t.Errorf("recorded %d failed messages", n)
	}
}
