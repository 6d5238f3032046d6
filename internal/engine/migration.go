package engine

import (
	"encoding/json"
	"time"
)

// ModeChange records one change of a tenant's engine mode: when, by which
// API key (empty when no key made it, such as an operator tool), from and
// to which mode. Mode changes are the deliberate steps of the migration
// from legacy settings, so each is kept.
type ModeChange struct {
	ID        string
	TenantID  string
	From      Mode
	To        Mode
	APIKeyID  string
	ChangedAt time.Time
}

// MigrationPreview is a stored preview of the migration from a tenant's
// legacy settings: its id names the settings it was computed from (by
// SettingsHash, the SHA-256 of their canonical JSON). Applying it creates
// the workflows and catch-all rules those settings become, once: AppliedAt
// and Result (the ids created, as JSON) say that it was.
type MigrationPreview struct {
	ID           string
	TenantID     string
	SettingsHash string
	CreatedAt    time.Time
	AppliedAt    *time.Time
	AppliedBy    string // the API key id that applied it; empty for an operator tool
	Result       json.RawMessage
}
