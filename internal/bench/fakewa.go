package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	randv2 "math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
)

// waTemplate is the template the bench's WhatsApp steps send: its name,
// language and the body parameters a send gives.
var waTemplate = struct {
	Name, Language, Body string
	Parameters           int
}{Name: "quote_sent", Language: "en_US", Body: "Hello {{1}}, your quote {{2}} is ready.", Parameters: 2}

// The account of the fake, which the tenant's channel names.
const (
	waPhoneNumberID     = "106540352242922"
	waBusinessAccountID = "102290129340398"
	waAccessToken       = "bench-access-token"
)

// waFake is the bench's stand-in for Meta's WhatsApp Cloud API, on
// 127.0.0.1: only what the deliver scenario uses. POST
// /{version}/{phone_number_id}/messages answers Meta's documented success
// (a wamid) after the latency asked for, or, for the fraction of sends the
// error rate asks for, Meta's error 131000 (transient, so retried with
// backoff); GET /{version}/{waba_id}/message_templates lists the one
// template, for the check the app makes when the workflow is saved. It
// keeps no record of what it was sent, so that a long run costs it no
// memory. The tests' fake (whatsapptest) does far more, but it is test
// code and stays out of the binary.
type waFake struct {
	url       string
	srv       *http.Server
	latency   time.Duration
	errorRate float64
	idPrefix  string
	seq       atomic.Int64

	done      chan struct{} // closed by close: releases sends waiting out the latency
	closeOnce sync.Once
}

// startWhatsAppFake starts the fake with the latency and error rate asked
// for; the returned function stops it.
func startWhatsAppFake(latency time.Duration, errorRate float64) (*waFake, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, fmt.Errorf("whatsapp fake: %w", err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	f := &waFake{url: "http://" + ln.Addr().String(), latency: latency, errorRate: errorRate,
		idPrefix: strings.ToUpper(hex.EncodeToString(b)), done: make(chan struct{})}
	f.srv = &http.Server{Handler: http.HandlerFunc(f.serveHTTP), ReadHeaderTimeout: 10 * time.Second}
	// Labelled as the bench's: its connections' goroutines inherit it.
	go asBench(context.Background(), func(context.Context) { _ = f.srv.Serve(ln) }) // returns ErrServerClosed when stopped
	return f, f.close, nil
}

func (f *waFake) close() {
	f.closeOnce.Do(func() {
		close(f.done)
		_ = f.srv.Close()
	})
}

// URL is the fake's origin, for QUOTEFLOW_WHATSAPP_API_BASE.
func (f *waFake) URL() string { return f.url }

// Channel returns the tenant settings that send through the fake.
func (f *waFake) Channel() engine.WhatsAppChannel {
	return engine.WhatsAppChannel{Provider: "cloud_api", PhoneNumberID: waPhoneNumberID,
		BusinessAccountID: waBusinessAccountID, AccessToken: waAccessToken}
}

func (f *waFake) serveHTTP(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) != 3 || !strings.HasPrefix(parts[0], "v") {
		waError(w, http.StatusBadRequest, 100, "Unsupported request")
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+waAccessToken {
		waError(w, http.StatusUnauthorized, 190, "Invalid OAuth access token - Cannot parse access token")
		return
	}
	switch {
	case parts[1] == waPhoneNumberID && parts[2] == "messages" && r.Method == http.MethodPost:
		f.send(w, r)
	case parts[1] == waBusinessAccountID && parts[2] == "message_templates" && r.Method == http.MethodGet:
		f.listTemplates(w)
	default:
		waError(w, http.StatusBadRequest, 100, "Unsupported request")
	}
}

// waSend is the part of a send request the fake checks.
type waSend struct {
	To       string `json:"to"`
	Template struct {
		Name     string `json:"name"`
		Language struct {
			Code string `json:"code"`
		} `json:"language"`
		Components []struct {
			Parameters []json.RawMessage `json:"parameters"`
		} `json:"components"`
	} `json:"template"`
}

func (f *waFake) send(w http.ResponseWriter, r *http.Request) {
	var body waSend
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body); err != nil {
		waError(w, http.StatusBadRequest, 100, "(#100) Invalid parameter")
		return
	}
	params := 0
	for _, c := range body.Template.Components {
		params += len(c.Parameters)
	}
	// A workflow that does not match the template would measure failures,
	// so the fake refuses it as Meta would.
	switch {
	case body.Template.Name != waTemplate.Name || body.Template.Language.Code != waTemplate.Language:
		waError(w, http.StatusBadRequest, 132001, "(#132001) Template name does not exist in the translation")
		return
	case params != waTemplate.Parameters:
		waError(w, http.StatusBadRequest, 132000, "(#132000) Number of parameters does not match the expected number of params")
		return
	}
	if f.latency > 0 {
		t := time.NewTimer(f.latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
		case <-f.done:
		}
		t.Stop()
	}
	if f.errorRate > 0 && randv2.Float64() < f.errorRate {
		waError(w, http.StatusInternalServerError, 131000, "(#131000) Something went wrong")
		return
	}
	to := strings.TrimPrefix(body.To, "+")
	waJSON(w, http.StatusOK, map[string]any{
		"messaging_product": "whatsapp",
		"contacts":          []map[string]string{{"input": body.To, "wa_id": to}},
		"messages":          []map[string]string{{"id": fmt.Sprintf("wamid.HBg%s%08d", f.idPrefix, f.seq.Add(1)), "message_status": "accepted"}},
	})
}

// listTemplates answers the one template on one page, without paging.next,
// which tells the client it has them all.
func (f *waFake) listTemplates(w http.ResponseWriter) {
	waJSON(w, http.StatusOK, map[string]any{
		"data": []map[string]any{{
			"name":       waTemplate.Name,
			"language":   waTemplate.Language,
			"status":     "APPROVED",
			"category":   "UTILITY",
			"components": []map[string]string{{"type": "BODY", "text": waTemplate.Body}},
			"id":         "900000000000000",
		}},
		"paging": map[string]any{"cursors": map[string]string{"before": "", "after": ""}},
	})
}

// waError answers in the Graph API's error shape.
func waError(w http.ResponseWriter, status, code int, message string) {
	waJSON(w, status, map[string]any{"error": map[string]any{
		"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "Abench",
	}})
}

func waJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
