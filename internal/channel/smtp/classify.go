package smtp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"strconv"
	"sync"

	gomail "github.com/wneessen/go-mail"

	"github.com/quoteflow/quoteflow/internal/channel"
)

// stage is how far a session got when it failed. It matters because the same
// reply or the same broken connection means different things before and
// after the message has been handed over.
type stage int

const (
	stageDial     stage = iota // opening the TCP connection
	stageTLS                   // implicit TLS handshake, or STARTTLS and its handshake
	stageGreeting              // the server's 220 banner
	stageHello                 // EHLO, before or after STARTTLS
	stageAuth                  // AUTH
	stageCompose               // go-mail could not take sender or recipients from the message
	stageMail                  // MAIL FROM
	stageRcpt                  // RCPT TO
	stageData                  // the DATA command, before any content
	stageContent               // writing the content; the final "." not yet sent
	stageEnd                   // the final "." sent, or possibly sent; awaiting the reply
)

func (s stage) String() string {
	switch s {
	case stageDial:
		return "connect"
	case stageTLS:
		return "tls handshake"
	case stageGreeting:
		return "greeting"
	case stageHello:
		return "ehlo"
	case stageAuth:
		return "auth"
	case stageCompose:
		return "compose"
	case stageMail:
		return "mail from"
	case stageRcpt:
		return "rcpt to"
	case stageData:
		return "data"
	case stageContent:
		return "message content"
	default:
		return "end of data"
	}
}

// sendErrorStage maps the stage go-mail reports in SendError.Reason.
//
// The decisive distinction is between ErrWriteContent and ErrSMTPDataClose.
// go-mail writes the content through the DATA dot-writer and sends the final
// "." only when it closes that writer, in DataCloser.Close, which also reads
// the reply; ErrWriteContent therefore means the server never received the
// end of the message and cannot have accepted it. DataCloser.Close ignores
// the error from writing the "." and reports only the reply, so after
// ErrSMTPDataClose without a reply code nobody knows whether the server
// received the whole message: that is stageEnd, whose failures are Unknown.
// Reasons go-mail may add later also count as stageEnd, the safe side.
func sendErrorStage(r gomail.SendErrReason) stage {
	switch r {
	case gomail.ErrGetSender, gomail.ErrGetRcpts, gomail.ErrNoUnencoded:
		return stageCompose
	case gomail.ErrConnCheck, gomail.ErrSMTPMailFrom:
		return stageMail
	case gomail.ErrSMTPRcptTo:
		return stageRcpt
	case gomail.ErrSMTPData:
		return stageData
	case gomail.ErrWriteContent:
		return stageContent
	default:
		return stageEnd
	}
}

// failureKind describes a failure that was not an SMTP reply.
type failureKind int

const (
	failOther    failureKind = iota // go-mail or crypto/tls refused, or the server spoke nonsense
	failNetwork                     // the connection broke: reset, EOF, closed
	failTimeout                     // a deadline passed, ours or the caller's
	failCanceled                    // the caller cancelled the context
)

func (k failureKind) code() string {
	switch k {
	case failTimeout:
		return "timeout"
	case failCanceled:
		return "canceled"
	case failNetwork:
		return "connection"
	}
	return ""
}

// fail turns err, met at st, into a classified *channel.Error.
func (s *Sender) fail(ctx context.Context, conn *trackedConn, st stage, err error) error {
	code := replyCode(err)
	kind := failOther
	if code == 0 {
		kind = failureKindOf(ctx, conn, err)
	}
	class, c := classify(st, code, kind)
	msg := fmt.Sprintf("%s: %v", st, err)
	var se *gomail.SendError
	if errors.As(err, &se) {
		msg = err.Error() // go-mail's text already names the stage
	}
	if class == channel.Unknown {
		msg += " (the server may have accepted the message)"
	}
	return &channel.Error{Class: class, Code: c, Message: msg, Err: err}
}

// classify is the classification table. code is the SMTP reply code, zero
// when the failure was not a reply; kind describes such a failure.
//
// Replies:
//
//	any stage    4xx                        Transient (421, 450, 451, 452, 454, ...)
//	any stage    530 534 535 538            Tenant    (authentication required, failed, too weak)
//	greeting, ehlo, STARTTLS, auth: 5xx     Tenant    (the server refuses this client or its TLS)
//	mail from    5xx                        Tenant    (the server refuses the tenant's sender)
//	rcpt to      550 551 553                Recipient (no such mailbox, not local, bad address)
//	rcpt to      552                        Transient (RFC 5321 §4.5.3.1.10: too many recipients is 452)
//	rcpt to      554                        Tenant    (relay access denied, policy)
//	rcpt to      other 5xx                  Request
//	data, end of data: 552                  Request   (message too big: the content must change)
//	data, end of data: other 5xx            Tenant    (policy, reputation, DMARC, spam: a quality block)
//
// Failures that are not replies:
//
//	connect      any                        Transient "dial" ("timeout", "canceled")
//	tls          timeout, cancel            Transient
//	tls          other (handshake, certificate, STARTTLS refused)  Tenant "tls"
//	end of data  any                        Unknown   (the message may have been accepted)
//	other stages timeout, cancel, broken connection                Transient
//	greeting, ehlo: other (not SMTP)        Tenant    "protocol"
//	auth         other (mechanism refused, clear text)             Tenant "auth"
//	compose, mail, rcpt, data, content: other                      Request
//
// "STARTTLS not offered" and "no usable AUTH mechanism" are decided before
// this table, as Tenant "tls" and Tenant "auth".
func classify(st stage, code int, kind failureKind) (channel.Class, string) {
	if code != 0 {
		return replyClass(st, code), strconv.Itoa(code)
	}
	k := kind.code()
	switch st {
	case stageDial:
		if kind == failTimeout || kind == failCanceled {
			return channel.Transient, k
		}
		return channel.Transient, "dial"
	case stageEnd:
		if k == "" {
			k = "connection"
		}
		return channel.Unknown, k
	case stageTLS:
		if kind == failTimeout || kind == failCanceled {
			return channel.Transient, k
		}
		return channel.Tenant, "tls"
	}
	if kind != failOther {
		return channel.Transient, k
	}
	switch st {
	case stageGreeting, stageHello:
		return channel.Tenant, "protocol"
	case stageAuth:
		return channel.Tenant, "auth"
	case stageContent:
		return channel.Request, "render"
	default:
		return channel.Request, "protocol"
	}
}

func replyClass(st stage, code int) channel.Class {
	if code >= 400 && code < 500 {
		return channel.Transient
	}
	switch code {
	case 530, 534, 535, 538:
		return channel.Tenant
	}
	switch st {
	case stageRcpt:
		switch code {
		case 550, 551, 553:
			return channel.Recipient
		case 552:
			return channel.Transient
		case 554:
			return channel.Tenant
		}
		return channel.Request
	case stageData, stageContent, stageEnd:
		if code == 552 {
			return channel.Request
		}
		return channel.Tenant
	default:
		return channel.Tenant
	}
}

// replyCode returns the SMTP reply code of a failure that was a 4xx or 5xx
// reply, and zero otherwise. go-mail's SendError has no Unwrap; it exposes
// the code through ErrorCode, parsed from the reply's text.
func replyCode(err error) int {
	code := 0
	var se *gomail.SendError
	var te *textproto.Error
	switch {
	case errors.As(err, &se):
		code = se.ErrorCode()
	case errors.As(err, &te):
		code = te.Code
	}
	if code < 400 || code > 599 {
		return 0
	}
	return code
}

func failureKindOf(ctx context.Context, conn *trackedConn, err error) failureKind {
	if ctxErr := ctx.Err(); ctxErr != nil {
		if errors.Is(ctxErr, context.Canceled) {
			return failCanceled
		}
		return failTimeout
	}
	ioErr := conn.ioErr()
	for _, e := range []error{err, ioErr} {
		var ne net.Error
		switch {
		case e == nil:
		case errors.As(e, &ne) && ne.Timeout(), errors.Is(e, context.DeadlineExceeded):
			return failTimeout
		case errors.Is(e, context.Canceled):
			return failCanceled
		}
	}
	var op *net.OpError
	if ioErr != nil || errors.As(err, &op) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) {
		return failNetwork
	}
	return failOther
}

// trackedConn remembers the first error of a read or write on the TCP
// connection. go-mail's SendError does not wrap the error it reports, and
// crypto/tls replaces I/O errors with its own; this is how a failure is known
// to be the network's rather than the server's or the library's.
type trackedConn struct {
	net.Conn
	mu  sync.Mutex
	err error
}

func (c *trackedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.record(err)
	return n, err
}

func (c *trackedConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.record(err)
	return n, err
}

func (c *trackedConn) record(err error) {
	if err == nil {
		return
	}
	c.mu.Lock()
	if c.err == nil {
		c.err = err
	}
	c.mu.Unlock()
}

func (c *trackedConn) ioErr() error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}
