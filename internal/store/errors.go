package store

import (
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/quoteflow/quoteflow/internal/engine"
)

// violation is the kind of constraint a driver error reports.
type violation int

const (
	noViolation violation = iota
	uniqueViolation
	foreignKeyViolation
	invalidValue
	unavailable // the database cannot be reached: an outage, not a bug
)

// classify maps the errors of both drivers onto one vocabulary; it is the
// only place that knows driver error codes.
func classify(err error) violation {
	if isOutage(err) {
		return unavailable
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "23505": // unique_violation
			return uniqueViolation
		case "23503": // foreign_key_violation
			return foreignKeyViolation
		case "22P02", "22P05", "22021": // bad JSON text, \u0000 in JSONB, bad UTF-8
			return invalidValue
		}
		return noViolation
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		switch sqErr.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return uniqueViolation
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return foreignKeyViolation
		}
		// Extended codes are on, but a primary code is cheap insurance.
		if sqErr.Code()&0xff == sqlite3.SQLITE_CONSTRAINT {
			msg := sqErr.Error()
			switch {
			case strings.Contains(msg, "UNIQUE constraint"):
				return uniqueViolation
			case strings.Contains(msg, "FOREIGN KEY constraint"):
				return foreignKeyViolation
			}
		}
	}
	return noViolation
}

// onViolation says what a constraint failure means for one statement. The
// call site knows which request field the failing column came from; SQLite
// does not say which foreign key failed, so the driver cannot tell us.
type onViolation struct {
	unique  error // for a unique or primary key violation
	foreign error // for a foreign key violation
}

// translate turns a driver error into the domain's: constraint violations
// into what o says, *engine.Error unchanged, anything else wrapped with op
// (and so EINTERNAL).
func translate(err error, op string, o onViolation) error {
	if err == nil {
		return nil
	}
	var e *engine.Error
	if errors.As(err, &e) {
		return err
	}
	switch classify(err) {
	case uniqueViolation:
		if o.unique != nil {
			return o.unique
		}
		return engine.Errorf(engine.ECONFLICT, "%s: already exists", op)
	case foreignKeyViolation:
		if o.foreign != nil {
			return o.foreign
		}
		return engine.Errorf(engine.EINVALID, "%s: refers to something that does not exist", op)
	case invalidValue:
		return &engine.Error{Code: engine.EINVALID, Message: op + ": value cannot be stored: " + err.Error()}
	case unavailable:
		return &outageError{op: op, err: err}
	}
	return fmt.Errorf("store: %s: %w", op, err)
}

// conflict is an ECONFLICT naming field.
func conflict(field, format string, args ...any) error {
	return &engine.Error{
		Code:    engine.ECONFLICT,
		Message: "conflict",
		Fields:  []engine.FieldError{{Field: field, Message: fmt.Sprintf(format, args...)}},
	}
}

// outageError is an EUNAVAILABLE whose message says nothing about the
// database (it reaches clients) while Unwrap keeps the driver's error for
// the log and for errors.Is.
type outageError struct {
	op  string
	err error
}

func (o *outageError) Error() string {
	return "store: " + o.op + ": database unavailable: " + o.err.Error()
}
func (o *outageError) Unwrap() []error {
	return []error{&engine.Error{Code: engine.EUNAVAILABLE, Message: "the service is temporarily unavailable; retry later"}, o.err}
}

// isOutage says whether err means the database cannot be reached or
// cannot serve right now, as opposed to a statement that is wrong.
func isOutage(err error) bool {
	if errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, net.ErrClosed) {
		return true
	}
	// database/sql and puddle (under pgxpool) do not export their
	// closed-pool errors.
	if msg := err.Error(); strings.Contains(msg, "sql: database is closed") || strings.Contains(msg, "closed pool") {
		return true
	}
	var connErr *pgconn.ConnectError
	if errors.As(err, &connErr) {
		return true
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// Class 08 is connection exception; 57P01-57P03 are shutdowns and
		// "cannot connect now"; 53300 is too many connections.
		return strings.HasPrefix(pgErr.Code, "08") || pgErr.Code == "57P01" || pgErr.Code == "57P02" ||
			pgErr.Code == "57P03" || pgErr.Code == "53300"
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		// BUSY and LOCKED reach us only after the busy timeout; IOERR,
		// FULL and CANTOPEN are the disk's.
		switch sqErr.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL, sqlite3.SQLITE_CANTOPEN:
			return true
		}
	}
	return false
}
