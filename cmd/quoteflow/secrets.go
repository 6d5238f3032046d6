package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/quoteflow/quoteflow/internal/secrets"
	"github.com/quoteflow/quoteflow/internal/store"
)

// secretsDoc is where an operator reads what to do about a key.
const secretsDoc = "see docs/ops/secrets.md"

// secretKeyEnv fills the secret key settings from the environment where no
// flag gave them. They are not flag defaults, because flag prints defaults
// in -h and a key must not appear there.
func secretKeyEnv(c *config, getenv func(string) string) {
	fill := func(dst *string, k string) {
		if *dst == "" {
			*dst = getenv(k)
		}
	}
	fill(&c.SecretKey, "QUOTEFLOW_SECRET_KEY")
	fill(&c.SecretKeyFile, "QUOTEFLOW_SECRET_KEY_FILE")
	fill(&c.SecretKeyOld, "QUOTEFLOW_SECRET_KEY_OLD")
	fill(&c.SecretKeyOldFile, "QUOTEFLOW_SECRET_KEY_OLD_FILE")
}

// loadKeyring builds the keyring from the configuration: nil when no key
// is configured. Errors name the setting at fault, never the key.
func loadKeyring(c config, log *slog.Logger) (*secrets.Keyring, error) {
	if c.SecretKey != "" && c.SecretKeyFile != "" {
		return nil, errors.New("both a secret key and a secret key file are set: set one of QUOTEFLOW_SECRET_KEY and QUOTEFLOW_SECRET_KEY_FILE")
	}
	var current []byte
	var err error
	switch {
	case c.SecretKey != "":
		if current, err = secrets.ParseKey(c.SecretKey); err != nil {
			return nil, fmt.Errorf("QUOTEFLOW_SECRET_KEY: %w", err)
		}
	case c.SecretKeyFile != "":
		if current, err = readKeyFile(c.SecretKeyFile, log); err != nil {
			return nil, err
		}
	}
	var old [][]byte
	for i, s := range splitList(c.SecretKeyOld) {
		k, err := secrets.ParseKey(s)
		if err != nil {
			return nil, fmt.Errorf("QUOTEFLOW_SECRET_KEY_OLD, key %d: %w", i+1, err)
		}
		old = append(old, k)
	}
	for _, path := range splitList(c.SecretKeyOldFile) {
		k, err := readKeyFile(path, log)
		if err != nil {
			return nil, err
		}
		old = append(old, k)
	}
	if current == nil {
		if len(old) > 0 {
			return nil, errors.New("old secret keys are set but no current key: set QUOTEFLOW_SECRET_KEY or QUOTEFLOW_SECRET_KEY_FILE to the key that seals; " + secretsDoc)
		}
		return nil, nil
	}
	return secrets.NewKeyring(current, old...)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// readKeyFile reads a key file, warning when others may read it.
func readKeyFile(path string, log *slog.Logger) ([]byte, error) {
	k, err := secrets.ReadKeyFile(path)
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		log.Warn("secret key file is readable by others; chmod 600 it", "path", path, "mode", fi.Mode().Perm().String())
	}
	return k, nil
}

// demoKeyPath is where demo keeps the key it makes: next to its SQLite
// file ("quoteflow-demo.db" → "quoteflow-demo.key"), or in the working
// directory when the database is PostgreSQL.
func demoKeyPath(databaseURL string) string {
	if strings.HasPrefix(databaseURL, "postgres://") || strings.HasPrefix(databaseURL, "postgresql://") {
		return "quoteflow-demo.key"
	}
	path := strings.TrimPrefix(strings.TrimPrefix(databaseURL, "sqlite://"), "sqlite:")
	path, _, _ = strings.Cut(path, "?")
	return strings.TrimSuffix(path, filepath.Ext(path)) + ".key"
}

// demoKeyring returns the demo's own key, made on its first start (0600)
// and reused after, so that the demo needs no setup and still never stores
// a secret in plaintext.
func demoKeyring(path string, log *slog.Logger) (*secrets.Keyring, error) {
	raw, err := secrets.ReadKeyFile(path)
	if errors.Is(err, os.ErrNotExist) {
		if raw, err = secrets.GenerateKey(); err != nil {
			return nil, err
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("demo secret key: %w", err)
		}
		_, err = io.WriteString(f, secrets.EncodeKey(raw)+"\n")
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, fmt.Errorf("demo secret key: %w", err)
		}
		log.Info("made a secret key for the demo", "path", path)
	} else if err != nil {
		return nil, err
	}
	return secrets.NewKeyring(raw)
}

// checkSecrets refuses to start a server that could not read some tenant's
// secrets, so that a missing or wrong key is found now, not by the first
// message to that tenant's customers.
func checkSecrets(ctx context.Context, db *store.DB, keys *secrets.Keyring, log *slog.Logger) error {
	rep, err := db.CheckSecrets(ctx)
	if err != nil {
		return fmt.Errorf("check tenant secrets: %w", err)
	}
	if rep.Unreadable > 0 {
		fix := "configure the key that sealed them (as QUOTEFLOW_SECRET_KEY_OLD during a rotation)"
		if keys == nil {
			fix = "set QUOTEFLOW_SECRET_KEY or QUOTEFLOW_SECRET_KEY_FILE"
		}
		return fmt.Errorf("%d tenant(s) have channel secrets this server cannot read (first: %v): %s; %s",
			rep.Unreadable, rep.FirstUnreadable, fix, secretsDoc)
	}
	if keys == nil {
		if rep.Tenants > 0 {
			return fmt.Errorf("%d tenant(s) have channel secrets stored in plaintext and no secret key is configured: set QUOTEFLOW_SECRET_KEY or QUOTEFLOW_SECRET_KEY_FILE, then run quoteflow rotate-secrets; %s", rep.Tenants, secretsDoc)
		}
		log.Warn("no secret key is configured: saving a tenant with an SMTP password or WhatsApp token is refused (422) until one is; " + secretsDoc)
		return nil
	}
	log.Info("secret key", "key_id", keys.CurrentID(), "tenants_with_secrets", rep.Tenants)
	if rep.Plaintext > 0 {
		log.Warn("tenants have channel secrets in plaintext, from before encryption: they are sealed on their next update, or now by quoteflow rotate-secrets", "tenants", rep.Plaintext)
	}
	if rep.Stale > 0 {
		log.Info("tenants have channel secrets sealed with an old key: run quoteflow rotate-secrets, then drop the old key", "tenants", rep.Stale)
	}
	return nil
}

// rotateSecrets is the rotate-secrets command.
func rotateSecrets(ctx context.Context, db *store.DB, keys *secrets.Keyring, stdout io.Writer) error {
	if keys == nil {
		return errors.New("rotate-secrets needs the current key: set QUOTEFLOW_SECRET_KEY or QUOTEFLOW_SECRET_KEY_FILE; " + secretsDoc)
	}
	rep, err := db.RotateSecrets(ctx)
	if err != nil {
		return fmt.Errorf("rotate secrets (%d tenant(s) re-sealed before the error; run again when fixed): %w", rep.Resealed, err)
	}
	fmt.Fprintf(stdout, "secrets rotated: %d of %d tenant(s) with secrets re-sealed with key id %s\n", rep.Resealed, rep.Tenants, keys.CurrentID())
	return nil
}
