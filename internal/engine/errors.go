package engine

import (
	"errors"
	"fmt"
	"strings"
)

// Code classifies an Error. The API maps each code to one HTTP status and
// one problem type, in one table, so that the rest of the code base speaks
// in domain terms only.
type Code string

// Error codes.
const (
	ECONFLICT     Code = "conflict"         // the request contradicts stored state (409)
	EINVALID      Code = "invalid"          // the request is well-formed but wrong (422)
	EMALFORMED    Code = "malformed"        // the request cannot be parsed (400)
	ENOTFOUND     Code = "not_found"        // no such thing for this tenant (404)
	EUNAUTHORIZED Code = "unauthorized"     // no or bad credentials (401)
	EFORBIDDEN    Code = "forbidden"        // credentials lack the role (403)
	EPRECONDITION Code = "version_mismatch" // If-Match did not match (412)
	EUNAVAILABLE  Code = "unavailable"      // the database cannot be reached now; retry later (503)
	EINTERNAL     Code = "internal"         // a bug (500)
)

// FieldError names one part of a request that is at fault. Field is a path
// in the request ("body.steps[1].email.subject", "body.condition.all[0].op");
// Line and Column locate a template error inside that field, 1-based.
type FieldError struct {
	Field   string
	Message string
	Line    int
	Column  int
	Value   any
}

// Error is quoteflow's one error type: a code, a human message, and the
// fields at fault.
type Error struct {
	Code    Code
	Message string
	Fields  []FieldError
}

func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return e.Message
	}
	parts := make([]string, 0, len(e.Fields))
	for _, f := range e.Fields {
		s := f.Field + ": " + f.Message
		if f.Line > 0 {
			s += fmt.Sprintf(" (line %d, column %d)", f.Line, f.Column)
		}
		parts = append(parts, s)
	}
	return e.Message + ": " + strings.Join(parts, "; ")
}

// Errorf returns an Error with code and a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an EINVALID error for one field.
func Invalid(field, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	return &Error{Code: EINVALID, Message: "validation failed", Fields: []FieldError{{Field: field, Message: msg}}}
}

// ErrorCode returns the code of err, EINTERNAL for errors that are not an
// *Error, and "" for nil.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// IsNotFound reports whether err is an ENOTFOUND Error.
func IsNotFound(err error) bool { return ErrorCode(err) == ENOTFOUND }

// PrefixFields returns a copy of err with prefix prepended to every field
// path, so that a validator can name paths relative to what it validates and
// the caller can place them in the request.
func PrefixFields(err error, prefix string) error {
	var e *Error
	if !errors.As(err, &e) || prefix == "" {
		return err
	}
	out := &Error{Code: e.Code, Message: e.Message, Fields: make([]FieldError, len(e.Fields))}
	for i, f := range e.Fields {
		switch {
		case f.Field == "":
			f.Field = prefix
		case strings.HasPrefix(f.Field, "["):
			f.Field = prefix + f.Field
		default:
			f.Field = prefix + "." + f.Field
		}
		out.Fields[i] = f
	}
	return out
}
