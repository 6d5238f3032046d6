package api

import (
	"context"

	"github.com/quoteflow/quoteflow/internal/engine"
)

// CreateKeyIn is POST /v1/api-keys.
type CreateKeyIn struct {
	Role string `json:"role" enum:"admin,app"`
}

func keyOut(k *engine.APIKey) KeyOut {
	return KeyOut{ID: k.ID, Role: string(k.Role), CreatedAt: k.CreatedAt, LastUsedAt: timePtr(k.LastUsedAt)}
}

func (s *Server) createKey(ctx context.Context, in *body[CreateKeyIn]) (*body[KeyOut], error) {
	// The secret is never stored: the answer kept for a replay has no key
	// (operationSemantics redacts it in any case).
	answerWith(ctx, func(k *engine.APIKey) *body[KeyOut] { return &body[KeyOut]{Body: keyOut(k)} })
	k, secret, err := s.app.CreateAPIKey(ctx, principal(ctx).TenantID, engine.Role(in.Body.Role))
	if err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	out := keyOut(k)
	out.Key = secret
	return &body[KeyOut]{Body: out}, nil
}

func (s *Server) listKeys(ctx context.Context, _ *struct{}) (*body[Items[KeyOut]], error) {
	keys, err := s.app.ListAPIKeys(ctx, principal(ctx).TenantID)
	if err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	return &body[Items[KeyOut]]{Body: itemsOf(keys, keyOut)}, nil
}

// KeyPath names an API key in the URL.
type KeyPath struct {
	KeyID string `path:"key_id"`
}

func (s *Server) deleteKey(ctx context.Context, in *KeyPath) (*struct{}, error) {
	if err := s.app.DeleteAPIKey(ctx, principal(ctx).TenantID, in.KeyID); err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	return nil, nil
}
