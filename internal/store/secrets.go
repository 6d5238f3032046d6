package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/secrets"
)

// Channel secrets are sealed here, in the store, rather than in app: the
// store is the one place every tenant write passes through, so no caller
// can forget to seal, and only the store knows the tenant id (the
// additional authenticated data) before a new tenant is inserted. The rest
// of the program sees plaintext in engine.Channels, as before.

// UseSecretKeys makes db seal channel secrets with r's current key and open
// them with any of r's keys. Call it before db is used. Without it (r nil)
// legacy plaintext secrets still read, sealed ones do not open, and saving
// a tenant with a secret is EINVALID naming the field.
func (db *DB) UseSecretKeys(r *secrets.Keyring) { db.secrets = r }

// secretField is one secret in a tenant's channels.
type secretField struct {
	name  string // as in the channels JSON: "email.password"
	value *string
}

// secretFields lists ch's secret fields that hold a value.
func secretFields(ch *engine.Channels) []secretField {
	var fs []secretField
	add := func(name string, v *string) {
		if *v != "" {
			fs = append(fs, secretField{name, v})
		}
	}
	if e := ch.Email; e != nil {
		add("email.password", &e.Password)
	}
	if w := ch.WhatsApp; w != nil {
		add("whatsapp.access_token", &w.AccessToken)
		add("whatsapp.app_secret", &w.AppSecret)
		add("whatsapp.verify_token", &w.VerifyToken)
	}
	return fs
}

// secretAAD binds a sealed value to its tenant and field: a ciphertext
// copied into another tenant's row, or into another field, does not open.
func secretAAD(tenantID, field string) string {
	return "quoteflow/tenants/" + tenantID + "/channels." + field
}

// copyChannels returns a copy of ch whose channel structs are its own, so
// that sealing it leaves the caller's tenant in plaintext.
func copyChannels(ch engine.Channels) engine.Channels {
	if ch.Email != nil {
		e := *ch.Email
		ch.Email = &e
	}
	if ch.WhatsApp != nil {
		w := *ch.WhatsApp
		ch.WhatsApp = &w
	}
	return ch
}

// sealChannels returns ch with every secret sealed for tenantID with the
// current key. Without a key it refuses, naming each field: a plaintext
// secret never reaches the database.
func (db *DB) sealChannels(tenantID string, ch engine.Channels) (engine.Channels, error) {
	out := copyChannels(ch)
	fs := secretFields(&out)
	if len(fs) == 0 {
		return out, nil
	}
	if db.secrets == nil {
		e := &engine.Error{Code: engine.EINVALID, Message: "channel secrets cannot be saved: this server has no secret key"}
		for _, f := range fs {
			e.Fields = append(e.Fields, engine.FieldError{Field: "body.channels." + f.name,
				Message: "cannot be saved: the server has no secret key configured (QUOTEFLOW_SECRET_KEY or QUOTEFLOW_SECRET_KEY_FILE)"})
		}
		return out, e
	}
	for _, f := range fs {
		sealed, err := db.secrets.Seal(*f.value, secretAAD(tenantID, f.name))
		if err != nil {
			return out, err
		}
		*f.value = sealed
	}
	return out, nil
}

// SecretError is why a stored secret could not be read. It names the
// tenant, the field and the key id, never a key or a secret.
type SecretError struct {
	TenantID string
	Field    string // "channels.email.password"
	KeyID    string // of the sealed value; empty when it is malformed
	Err      error  // secrets.ErrUnknownKey, ErrDoesNotOpen, ErrMalformed, or ErrNoSecretKey
}

// ErrNoSecretKey means a sealed secret was read by a DB without keys.
var ErrNoSecretKey = errors.New("sealed, and no secret key is configured")

func (e *SecretError) Error() string {
	return fmt.Sprintf("store: tenant %s: %s: %v", e.TenantID, e.Field, e.Err)
}

func (e *SecretError) Unwrap() error { return e.Err }

// openSecret returns the plaintext of a stored value and the id of the key
// that sealed it ("" for a legacy plaintext, which is returned as it is).
func (db *DB) openSecret(tenantID, field, stored string) (plain, keyID string, err error) {
	if !secrets.IsSealed(stored) {
		return stored, "", nil
	}
	if db.secrets == nil {
		id, _ := secrets.SealedKeyID(stored)
		return "", id, &SecretError{TenantID: tenantID, Field: "channels." + field, KeyID: id, Err: ErrNoSecretKey}
	}
	plain, keyID, err = db.secrets.Open(stored, secretAAD(tenantID, field))
	if err != nil {
		return "", keyID, &SecretError{TenantID: tenantID, Field: "channels." + field, KeyID: keyID, Err: err}
	}
	return plain, keyID, nil
}

// openChannels replaces every sealed secret in ch with its plaintext.
func (db *DB) openChannels(tenantID string, ch *engine.Channels) error {
	for _, f := range secretFields(ch) {
		plain, _, err := db.openSecret(tenantID, f.name, *f.value)
		if err != nil {
			return err
		}
		*f.value = plain
	}
	return nil
}

// SecretsReport is what CheckSecrets found in the tenants table.
type SecretsReport struct {
	// Tenants is the number of tenants with at least one secret.
	Tenants int
	// Plaintext counts tenants with a secret stored before encryption;
	// they still read, and are sealed on their next write or by
	// RotateSecrets.
	Plaintext int
	// Stale counts tenants with a secret sealed by an old key.
	Stale int
	// Unreadable counts tenants with a secret no configured key opens;
	// FirstUnreadable says why for the first of them.
	Unreadable      int
	FirstUnreadable *SecretError
}

// secretsPage is how many tenants CheckSecrets and RotateSecrets read at
// once (and RotateSecrets rewrites in one transaction), so that neither
// holds a long transaction or much memory on a large table. Tests lower it
// per DB (DB.secretsPage).
const secretsPage = 200

// CheckSecrets reads every tenant's secrets with db's keys and counts what
// it finds, so that a missing or wrong key is found at start rather than
// by the first message. The error is only a database error.
func (db *DB) CheckSecrets(ctx context.Context) (SecretsReport, error) {
	var rep SecretsReport
	var current string
	if db.secrets != nil {
		current = db.secrets.CurrentID()
	}
	err := db.eachTenantChannels(ctx, false, nil, func(tx *Tx, id string, ch *engine.Channels) error {
		fs := secretFields(ch)
		if len(fs) == 0 {
			return nil
		}
		rep.Tenants++
		var plain, stale, bad bool
		for _, f := range fs {
			_, keyID, err := db.openSecret(id, f.name, *f.value)
			var se *SecretError
			switch {
			case errors.As(err, &se):
				if !bad && rep.FirstUnreadable == nil {
					rep.FirstUnreadable = se
				}
				bad = true
			case err != nil:
				return err
			case keyID == "":
				plain = true
			case keyID != current:
				stale = true
			}
		}
		rep.Plaintext += b2i(plain)
		rep.Stale += b2i(stale)
		rep.Unreadable += b2i(bad)
		return nil
	})
	return rep, err
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// RotateReport is what RotateSecrets did.
type RotateReport struct {
	// Tenants is the number of tenants with secrets; Resealed, how many of
	// them were rewritten (a plaintext or an old key's value).
	Tenants, Resealed int
}

// RotateSecrets re-seals, with the current key, every secret that is a
// legacy plaintext or was sealed by an old key. It works in transactions of
// at most secretsPage tenants, locking their rows on PostgreSQL so that a
// concurrent tenant update is not lost; a tenant already sealed with the
// current key is left alone, so a second run rewrites nothing. It does not
// move the tenant's version: the configuration is unchanged. A secret no
// configured key opens stops it with a *SecretError (the tenants before it
// stay rotated; run it again once the key is configured).
func (db *DB) RotateSecrets(ctx context.Context) (RotateReport, error) {
	var rep RotateReport
	if db.secrets == nil {
		return rep, errors.New("store: rotate secrets: no secret key is configured")
	}
	current := db.secrets.CurrentID()
	// Counted per transaction, and added to rep once it commits, so that
	// after an error rep says what is durable.
	var page RotateReport
	committed := func() {
		rep.Tenants += page.Tenants
		rep.Resealed += page.Resealed
		page = RotateReport{}
	}
	err := db.eachTenantChannels(ctx, true, committed, func(tx *Tx, id string, ch *engine.Channels) error {
		fs := secretFields(ch)
		if len(fs) == 0 {
			return nil
		}
		page.Tenants++
		changed := false
		for _, f := range fs {
			plain, keyID, err := db.openSecret(id, f.name, *f.value)
			if err != nil {
				return err
			}
			if keyID == current {
				continue
			}
			if *f.value, err = db.secrets.Seal(plain, secretAAD(id, f.name)); err != nil {
				return err
			}
			changed = true
		}
		if !changed {
			return nil
		}
		channels, err := jsonValue(*ch, false)
		if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `UPDATE tenants SET channels = ? WHERE id = ?`, channels, id); err != nil {
			return translate(err, "rotate tenant secrets", onViolation{})
		}
		page.Resealed++
		return nil
	})
	return rep, err
}

// eachTenantChannels calls fn with every tenant's stored (still sealed)
// channels, secretsPage tenants per transaction, in id order, and
// committed (if not nil) after each transaction commits. With forUpdate
// the rows are locked on PostgreSQL and fn may write them.
func (db *DB) eachTenantChannels(ctx context.Context, forUpdate bool, committed func(), fn func(tx *Tx, id string, ch *engine.Channels) error) error {
	page := secretsPage
	if db.secretsPage > 0 {
		page = db.secretsPage
	}
	after := ""
	for {
		n := 0
		run := db.ReadTx
		if forUpdate {
			run = db.Tx
		}
		err := run(ctx, func(tx *Tx) error {
			q := `SELECT id, channels FROM tenants WHERE id > ? ORDER BY id LIMIT ?`
			if forUpdate {
				q += tx.forUpdate()
			}
			type row struct {
				id string
				ch engine.Channels
			}
			var got []row
			err := tx.each(ctx, func(rows scanner) error {
				var r row
				var raw []byte
				if err := rows.Scan(&r.id, &raw); err != nil {
					return err
				}
				if err := decodeJSON(raw, &r.ch); err != nil {
					return err
				}
				got = append(got, r)
				return nil
			}, q, after, page)
			if err != nil {
				return translate(err, "list tenant channels", onViolation{})
			}
			// The rows are read in full before fn writes: SQLite's one
			// connection cannot run an UPDATE while a SELECT is open.
			for i := range got {
				if err := fn(tx, got[i].id, &got[i].ch); err != nil {
					return err
				}
			}
			n = len(got)
			if n > 0 {
				after = got[n-1].id
			}
			return nil
		})
		if err != nil {
			return err
		}
		if committed != nil {
			committed()
		}
		if n < page {
			return nil
		}
	}
}
