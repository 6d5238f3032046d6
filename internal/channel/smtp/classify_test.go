package smtp

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"os"
	"strings"
	"testing"

	gomail "github.com/wneessen/go-mail"

	"github.com/quoteflow/quoteflow/internal/channel"
	"github.com/quoteflow/quoteflow/internal/engine"
)

func TestClassifyReplies(t *testing.T) {
	t.Parallel()
	setup := []stage{stageGreeting, stageHello, stageTLS, stageAuth, stageMail}
	data := []stage{stageData, stageEnd}
	all := append(append(append([]stage{}, setup...), stageRcpt), data...)
	type row struct {
		stages []stage
		code   int
		want   channel.Class
	}
	rows := []row{
		{all, 421, channel.Transient},
		{all, 450, channel.Transient},
		{all, 451, channel.Transient},
		{all, 452, channel.Transient},
		{all, 454, channel.Transient},
		{all, 530, channel.Tenant},
		{all, 534, channel.Tenant},
		{all, 535, channel.Tenant},
		{all, 538, channel.Tenant},
		{setup, 500, channel.Tenant},
		{setup, 550, channel.Tenant},
		{setup, 553, channel.Tenant},
		{setup, 554, channel.Tenant},
		{[]stage{stageRcpt}, 550, channel.Recipient},
		{[]stage{stageRcpt}, 551, channel.Recipient},
		{[]stage{stageRcpt}, 553, channel.Recipient},
		{[]stage{stageRcpt}, 552, channel.Transient},
		{[]stage{stageRcpt}, 554, channel.Tenant},
		{[]stage{stageRcpt}, 501, channel.Request},
		{[]stage{stageRcpt}, 555, channel.Request},
		{data, 552, channel.Request},
		{data, 550, channel.Tenant},
		{data, 554, channel.Tenant},
		{data, 503, channel.Tenant},
	}
	for _, r := range rows {
		for _, st := range r.stages {
			class, code := classify(st, r.code, failOther)
			if class != r.want || code != fmt.Sprint(r.code) {
				t.Errorf("%s %d: got %s/%s, want %s/%d", st, r.code, class, code, r.want, r.code)
			}
		}
	}
}

func TestClassifyNonReplies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		st    stage
		kind  failureKind
		class channel.Class
		code  string
	}{
		{stageDial, failNetwork, channel.Transient, "dial"},
		{stageDial, failOther, channel.Transient, "dial"},
		{stageDial, failTimeout, channel.Transient, "timeout"},
		{stageDial, failCanceled, channel.Transient, "canceled"},
		{stageTLS, failOther, channel.Tenant, "tls"},
		{stageTLS, failNetwork, channel.Tenant, "tls"},
		{stageTLS, failTimeout, channel.Transient, "timeout"},
		{stageTLS, failCanceled, channel.Transient, "canceled"},
		{stageGreeting, failNetwork, channel.Transient, "connection"},
		{stageGreeting, failTimeout, channel.Transient, "timeout"},
		{stageGreeting, failOther, channel.Tenant, "protocol"},
		{stageHello, failOther, channel.Tenant, "protocol"},
		{stageAuth, failNetwork, channel.Transient, "connection"},
		{stageAuth, failOther, channel.Tenant, "auth"},
		{stageCompose, failOther, channel.Request, "protocol"},
		{stageMail, failNetwork, channel.Transient, "connection"},
		{stageMail, failOther, channel.Request, "protocol"},
		{stageRcpt, failTimeout, channel.Transient, "timeout"},
		{stageData, failCanceled, channel.Transient, "canceled"},
		// The final "." was never sent: the server cannot have the message.
		{stageContent, failNetwork, channel.Transient, "connection"},
		{stageContent, failTimeout, channel.Transient, "timeout"},
		{stageContent, failOther, channel.Request, "render"},
		// The final "." may have arrived: never retry blindly.
		{stageEnd, failNetwork, channel.Unknown, "connection"},
		{stageEnd, failTimeout, channel.Unknown, "timeout"},
		{stageEnd, failCanceled, channel.Unknown, "canceled"},
		{stageEnd, failOther, channel.Unknown, "connection"},
	}
	for _, tt := range tests {
		class, code := classify(tt.st, 0, tt.kind)
		if class != tt.class || code != tt.code {
			t.Errorf("%s kind %d: got %s/%s, want %s/%s", tt.st, tt.kind, class, code, tt.class, tt.code)
		}
	}
}

func TestSendErrorStage(t *testing.T) {
	t.Parallel()
	want := map[gomail.SendErrReason]stage{
		gomail.ErrGetSender:     stageCompose,
		gomail.ErrGetRcpts:      stageCompose,
		gomail.ErrNoUnencoded:   stageCompose,
		gomail.ErrConnCheck:     stageMail,
		gomail.ErrSMTPMailFrom:  stageMail,
		gomail.ErrSMTPRcptTo:    stageRcpt,
		gomail.ErrSMTPData:      stageData,
		gomail.ErrWriteContent:  stageContent,
		gomail.ErrSMTPDataClose: stageEnd,
		gomail.ErrSMTPReset:     stageEnd,
		gomail.ErrAmbiguous:     stageEnd,
		gomail.ErrAmbiguous + 7: stageEnd,
	}
	for r, st := range want {
		if got := sendErrorStage(r); got != st {
			t.Errorf("%v: got %s, want %s", r, got, st)
		}
	}
}

func TestReplyCode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want int
	}{
		{&textproto.Error{Code: 535, Msg: "5.7.8 bad credentials"}, 535},
		{fmt.Errorf("auth: %w", &textproto.Error{Code: 451, Msg: "later"}), 451},
		{&textproto.Error{Code: 354, Msg: "go ahead"}, 0},
		{&textproto.Error{Code: 250, Msg: "ok"}, 0},
		{io.EOF, 0},
		{&gomail.SendError{Reason: gomail.ErrSMTPRcptTo}, 0},
	}
	for _, tt := range tests {
		if got := replyCode(tt.err); got != tt.want {
			t.Errorf("replyCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}

func TestFailureKind(t *testing.T) {
	t.Parallel()
	live := context.Background()
	canceled, cancel := context.WithCancel(live)
	cancel()
	expired, cancel2 := context.WithTimeout(live, -1)
	defer cancel2()
	broken := &trackedConn{err: &net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset by peer")}}
	timedOut := &trackedConn{err: &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}}

	tests := []struct {
		name string
		ctx  context.Context
		conn *trackedConn
		err  error
		want failureKind
	}{
		{"caller canceled", canceled, nil, errors.New("x"), failCanceled},
		{"deadline", expired, nil, errors.New("x"), failTimeout},
		{"conn deadline", live, timedOut, errors.New("tls: wrapped"), failTimeout},
		{"timeout error", live, nil, &net.OpError{Op: "dial", Err: os.ErrDeadlineExceeded}, failTimeout},
		{"context error", live, nil, fmt.Errorf("dial: %w", context.DeadlineExceeded), failTimeout},
		{"reset seen on the conn", live, broken, errors.New("sending SMTP DATA command: short write"), failNetwork},
		{"eof", live, nil, io.EOF, failNetwork},
		{"unexpected eof", live, nil, io.ErrUnexpectedEOF, failNetwork},
		{"closed", live, nil, net.ErrClosed, failNetwork},
		{"op error", live, nil, &net.OpError{Op: "remote error", Err: errors.New("tls: bad certificate")}, failNetwork},
		{"certificate", live, nil, x509.UnknownAuthorityError{}, failOther},
		{"library refusal", live, nil, errors.New("unencrypted connection"), failOther},
	}
	for _, tt := range tests {
		if got := failureKindOf(tt.ctx, tt.conn, tt.err); got != tt.want {
			t.Errorf("%s: got %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestMessageIDLeft(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"0190f3a2-7c1e-7b7a-9c55-3f1d2e4a5b6c": "0190f3a2-7c1e-7b7a-9c55-3f1d2e4a5b6c",
		"01J8ZQ3K4M5N6P7Q8R9S0T1V2W":           "01J8ZQ3K4M5N6P7Q8R9S0T1V2W",
		"a.b_c+d=e":                            "a.b_c+d=e",
		"a b":                                  "x612062",
		"a>b":                                  "x613e62",
		".a":                                   "x2e61",
		"a..b":                                 "x612e2e62",
		"ção":                                  "xc3a7c3a36f",
	}
	for in, want := range tests {
		if got := messageIDLeft(in); got != want {
			t.Errorf("messageIDLeft(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	cfg := engine.EmailChannel{Host: "smtp.acme.example", From: "quotes@acme.example",
		Username: "quotes@acme.example", Password: "hunter2-secret"}
	s, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// AUTH PLAIN's initial response for these credentials.
	plain := "AHF1b3Rlc0BhY21lLmV4YW1wbGUAaHVudGVyMi1zZWNyZXQ="
	inner := &textproto.Error{Code: 501, Msg: "5.5.2 cannot decode " + plain + " for hunter2-secret"}
	out := s.redact(&channel.Error{Class: channel.Tenant, Code: "501", Message: "auth: " + inner.Error(), Err: inner})
	for e := out; e != nil; e = errors.Unwrap(e) {
		if text := e.Error(); strings.Contains(text, "hunter2") || strings.Contains(text, plain) {
			t.Errorf("secret left in %q", text)
		}
	}
	if channel.ClassOf(out) != channel.Tenant {
		t.Errorf("redaction changed the class: %v", out)
	}

	clean := &channel.Error{Class: channel.Transient, Code: "451", Message: "later", Err: io.EOF}
	if got := s.redact(clean); got != error(clean) {
		t.Errorf("redact rewrote an error without secrets: %v", got)
	}
}
