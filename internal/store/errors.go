package store

import (
	"errors"
	"fmt"
	"strings"

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
)

// classify maps the errors of both drivers onto one vocabulary; it is the
// only place that knows driver error codes.
func classify(err error) violation {
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
