package app

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"strings"

	"github.com/google/uuid"

	"github.com/quoteflow/quoteflow/internal/engine"
)

// keyPrefix starts every API key so that leaked keys are recognisable by
// secret scanners and by people.
const keyPrefix = "qf_"

// Principal is who is calling: a tenant and the role of the key used.
type Principal struct {
	TenantID string
	KeyID    string
	Role     engine.Role
}

// Can reports whether the principal may act with role want. Admin keys can
// do everything an app key can.
func (p Principal) Can(want engine.Role) bool {
	return p.Role == engine.RoleAdmin || p.Role == want
}

// NewAPIKey creates the key row and the secret shown to the caller once. The
// key's id is embedded in the secret so that authentication is one primary
// key lookup followed by a constant-time hash comparison.
func NewAPIKey(tenantID string, role engine.Role) (*engine.APIKey, string, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return nil, "", err
	}
	var secret [32]byte
	if _, err := rand.Read(secret[:]); err != nil {
		return nil, "", err
	}
	s := base64.RawURLEncoding.EncodeToString(secret[:])
	sum := sha256.Sum256([]byte(s))
	key := &engine.APIKey{ID: id.String(), TenantID: tenantID, Role: role, SecretHash: sum[:]}
	return key, keyPrefix + strings.ReplaceAll(id.String(), "-", "") + "_" + s, nil
}

// Authenticate turns a bearer token into a principal. Every failure is the
// same EUNAUTHORIZED so that a caller learns nothing about which keys exist.
func (a *App) Authenticate(ctx context.Context, token string) (Principal, error) {
	denied := engine.Errorf(engine.EUNAUTHORIZED, "missing or invalid API key")
	rest, ok := strings.CutPrefix(token, keyPrefix)
	if !ok {
		return Principal{}, denied
	}
	rawID, secret, ok := strings.Cut(rest, "_")
	if !ok || secret == "" {
		return Principal{}, denied
	}
	id, err := uuid.Parse(rawID)
	if err != nil {
		return Principal{}, denied
	}
	key, err := a.Store.GetAPIKey(ctx, id.String())
	if engine.IsNotFound(err) {
		return Principal{}, denied
	}
	if err != nil {
		return Principal{}, err
	}
	sum := sha256.Sum256([]byte(secret))
	if subtle.ConstantTimeCompare(sum[:], key.SecretHash) != 1 {
		return Principal{}, denied
	}
	return Principal{TenantID: key.TenantID, KeyID: key.ID, Role: key.Role}, nil
}

// IsOperator reports whether token is the operator token. An unset operator
// token disables tenant creation rather than accepting an empty one.
func (a *App) IsOperator(token string) bool {
	if a.operatorHash == nil || token == "" {
		return false
	}
	sum := sha256.Sum256([]byte(token))
	return subtle.ConstantTimeCompare(sum[:], a.operatorHash) == 1
}
