package store

import (
	"context"
	"database/sql"
	"errors"
	"slices"

	"github.com/quoteflow/quoteflow/internal/engine"
)

// GetLegacySettings returns the tenant's legacy settings by trigger; an
// empty map, never nil, when it has none.
func (db *DB) GetLegacySettings(ctx context.Context, tenantID string) (engine.LegacySettings, error) {
	return db.auto().GetLegacySettings(ctx, tenantID)
}

// GetLegacySettings is DB.GetLegacySettings in tx.
func (tx *Tx) GetLegacySettings(ctx context.Context, tenantID string) (engine.LegacySettings, error) {
	out := engine.LegacySettings{}
	err := tx.each(ctx, func(rows scanner) error {
		var trigger engine.Trigger
		var s engine.LegacySetting
		var channels, email, whatsapp []byte
		if err := rows.Scan(&trigger, &s.Enabled, &channels, &email, &whatsapp); err != nil {
			return err
		}
		if err := decodeJSON(channels, &s.Channels); err != nil {
			return err
		}
		var err error
		if s.Email, err = decodeOptional[engine.EmailContent](email); err != nil {
			return err
		}
		if s.WhatsApp, err = decodeOptional[engine.WhatsAppContent](whatsapp); err != nil {
			return err
		}
		out[trigger] = s
		return nil
	}, `SELECT trigger, enabled, channels, email, whatsapp FROM legacy_settings WHERE tenant_id = ?`, tenantID)
	if err != nil {
		return nil, translate(err, "get legacy settings", onViolation{})
	}
	return out, nil
}

// PutLegacySettings replaces all the tenant's legacy settings with s. It
// moves config_version: legacy settings are one of the resolver's inputs.
func (db *DB) PutLegacySettings(ctx context.Context, tenantID string, s engine.LegacySettings) error {
	return db.Tx(ctx, func(tx *Tx) error { return tx.PutLegacySettings(ctx, tenantID, s) })
}

// PutLegacySettings is DB.PutLegacySettings in tx.
func (tx *Tx) PutLegacySettings(ctx context.Context, tenantID string, s engine.LegacySettings) error {
	if err := tx.bumpConfig(ctx, tenantID); err != nil {
		return err
	}
	if _, err := tx.exec(ctx, `DELETE FROM legacy_settings WHERE tenant_id = ?`, tenantID); err != nil {
		return translate(err, "put legacy settings", onViolation{})
	}
	// Sorted, so that the statements (and any error) do not depend on map
	// iteration order.
	triggers := make([]engine.Trigger, 0, len(s))
	for t := range s {
		triggers = append(triggers, t)
	}
	slices.Sort(triggers)
	for _, t := range triggers {
		set := s[t]
		channels, err := jsonSlice(set.Channels)
		if err != nil {
			return err
		}
		email, err := jsonPtr(set.Email)
		if err != nil {
			return err
		}
		whatsapp, err := jsonPtr(set.WhatsApp)
		if err != nil {
			return err
		}
		_, err = tx.exec(ctx, `INSERT INTO legacy_settings (tenant_id, trigger, enabled, channels, email, whatsapp, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, tenantID, string(t), set.Enabled, channels, email, whatsapp, micros(tx.now))
		if err != nil {
			return translate(err, "put legacy settings", onViolation{})
		}
	}
	return nil
}

// ResolverInputs is everything tenant-wide the resolver reads, taken from
// one snapshot. Lead overrides are per lead and read separately.
type ResolverInputs struct {
	// ConfigVersion identifies this configuration: it moves with every
	// change to anything below, so a cache keyed on it is never stale.
	ConfigVersion int64
	Mode          engine.Mode
	// Rules are all the tenant's rules in the resolver's order.
	Rules []engine.Rule
	// Workflows are the current versions of the workflows that are not
	// deleted, by id, without their steps (Steps is nil).
	Workflows []engine.Workflow
	Legacy    engine.LegacySettings
	// HasOverrides reports whether any lead of the tenant has an override:
	// when none has, a resolution need not look for the lead's.
	HasOverrides bool
}

// ResolverInputs reads the tenant's resolver inputs in one read-only
// transaction, so that rules, workflows and legacy settings are consistent
// with each other and with ConfigVersion.
func (db *DB) ResolverInputs(ctx context.Context, tenantID string) (ResolverInputs, error) {
	var in ResolverInputs
	err := db.ReadTx(ctx, func(tx *Tx) (err error) {
		in, err = tx.ResolverInputs(ctx, tenantID)
		return err
	})
	return in, err
}

// ResolverInputs is DB.ResolverInputs in tx; tx should be a ReadTx (or a
// Tx that has written nothing that should not be seen).
func (tx *Tx) ResolverInputs(ctx context.Context, tenantID string) (ResolverInputs, error) {
	var in ResolverInputs
	err := tx.queryRow(ctx, `SELECT config_version, mode FROM tenants WHERE id = ?`, tenantID).Scan(&in.ConfigVersion, &in.Mode)
	if errors.Is(err, sql.ErrNoRows) {
		return in, notFound("tenant")
	}
	if err != nil {
		return in, translate(err, "get config version", onViolation{})
	}
	if in.Rules, err = tx.ListRules(ctx, tenantID); err != nil {
		return in, err
	}
	in.Workflows, err = collect(ctx, tx, scanWorkflow, workflowSelect+`w.current_version
		WHERE w.tenant_id = ? AND w.deleted_at IS NULL ORDER BY w.id`, tenantID)
	if err != nil {
		return in, translate(err, "list workflows", onViolation{})
	}
	if in.Legacy, err = tx.GetLegacySettings(ctx, tenantID); err != nil {
		return in, err
	}
	if in.HasOverrides, err = tx.exists(ctx, `SELECT 1 FROM lead_overrides WHERE tenant_id = ? LIMIT 1`, tenantID); err != nil {
		return in, translate(err, "find overrides", onViolation{})
	}
	return in, nil
}
