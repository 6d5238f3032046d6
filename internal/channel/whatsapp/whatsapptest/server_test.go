package whatsapptest_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/channel"
	"github.com/quoteflow/quoteflow/internal/channel/whatsapp"
	"github.com/quoteflow/quoteflow/internal/channel/whatsapp/whatsapptest"
)

func msg(to string) *channel.Message {
	return &channel.Message{To: to, AttemptID: "a", WhatsApp: &channel.WhatsAppTemplate{Name: "t", Language: "en_US"}}
}

func TestErrorRateAndLatency(t *testing.T) {
	t.Parallel()
	srv := whatsapptest.Start(t)
	s := whatsapp.New(srv.Channel(), srv.Options())
	srv.SetLatency(time.Millisecond)
	srv.SetErrorRate(1, 131056)
	for range 5 {
		_, err := s.Send(context.Background(), msg("+351912345678"))
		var ce *channel.Error
		if !errors.As(err, &ce) || ce.Code != "131056" || ce.Class != channel.Transient {
			t.Fatalf("got %v", err)
		}
	}
	// A script beats the error rate.
	srv.Script("351912345678", whatsapptest.OK())
	if _, err := s.Send(context.Background(), msg("+351912345678")); err != nil {
		t.Fatal(err)
	}
	srv.SetErrorRate(0, 0)
	if _, err := s.Send(context.Background(), msg("+351912345678")); err != nil {
		t.Fatal(err)
	}
	if srv.Attempts("+351912345678") != 7 || srv.Count("351912345678") != 2 {
		t.Fatalf("attempts %d count %d", srv.Attempts("+351912345678"), srv.Count("351912345678"))
	}
	reqs := srv.Requests()
	if reqs[0].HTTPStatus != http.StatusTooManyRequests || reqs[0].ErrorCode != 131056 || reqs[6].HTTPStatus != http.StatusOK {
		t.Fatalf("%+v", reqs)
	}
}

func TestUnknownRouteAnswersGraphError(t *testing.T) {
	t.Parallel()
	srv := whatsapptest.Start(t)
	resp, err := http.Get(srv.URL() + "/v21.0/" + whatsapptest.PhoneNumberID + "/messages")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Error struct {
			Code      int    `json:"code"`
			Type      string `json:"type"`
			FBTraceID string `json:"fbtrace_id"`
		} `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 400 || body.Error.Code != 100 || body.Error.Type != "OAuthException" || body.Error.FBTraceID == "" {
		t.Fatalf("%d %+v", resp.StatusCode, body)
	}
}
