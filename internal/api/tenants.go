package api

import (
	"context"
	"encoding/json"
	"reflect"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/quoteflow/quoteflow/internal/engine"
)

// QuietHours is a daily window, in local time, when nothing is sent.
type QuietHours struct {
	Start string `json:"start" pattern:"^([01][0-9]|2[0-3]):[0-5][0-9]$" example:"21:00"`
	End   string `json:"end" pattern:"^([01][0-9]|2[0-3]):[0-5][0-9]$" example:"08:00"`
}

// NullableQuietHours is quiet_hours in a PATCH: an object sets them, null
// removes them.
type NullableQuietHours struct {
	Set   bool
	Value *QuietHours
}

// UnmarshalJSON records presence and null.
func (n *NullableQuietHours) UnmarshalJSON(b []byte) error {
	n.Set = true
	if string(b) == "null" {
		n.Value = nil
		return nil
	}
	n.Value = &QuietHours{}
	return json.Unmarshal(b, n.Value)
}

// Schema implements huma.SchemaProvider.
func (NullableQuietHours) Schema(r huma.Registry) *huma.Schema {
	s := huma.SchemaFromType(r, reflectQuietHours)
	s.Nullable = true
	return s
}

// EmailChannelIn configures email. password is write-only: omit it to keep
// the stored one.
type EmailChannelIn struct {
	Provider string `json:"provider" enum:"smtp,log"`
	Host     string `json:"host,omitempty"`
	Port     int    `json:"port,omitempty"`
	TLS      string `json:"tls,omitempty" enum:"starttls,tls,none"`
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty" writeOnly:"true"`
	From     string `json:"from,omitempty" example:"Acme Roofing <quotes@acme.example>"`
}

// WhatsAppChannelIn configures the WhatsApp Cloud API. Secrets are
// write-only: omit them to keep the stored ones.
type WhatsAppChannelIn struct {
	Provider          string `json:"provider" enum:"cloud_api,log"`
	PhoneNumberID     string `json:"phone_number_id,omitempty"`
	BusinessAccountID string `json:"business_account_id,omitempty"`
	AccessToken       string `json:"access_token,omitempty" writeOnly:"true"`
	AppSecret         string `json:"app_secret,omitempty" writeOnly:"true"`
	VerifyToken       string `json:"verify_token,omitempty" writeOnly:"true"`
}

// ChannelsIn sets channel settings; a channel left out is unchanged.
type ChannelsIn struct {
	Email    *EmailChannelIn    `json:"email,omitempty"`
	WhatsApp *WhatsAppChannelIn `json:"whatsapp,omitempty"`
}

// EmailChannelOut is the email configuration without its secret.
type EmailChannelOut struct {
	Provider    string `json:"provider"`
	Host        string `json:"host,omitempty"`
	Port        int    `json:"port,omitempty"`
	TLS         string `json:"tls,omitempty"`
	Username    string `json:"username,omitempty"`
	PasswordSet bool   `json:"password_set"`
	From        string `json:"from,omitempty"`
}

// WhatsAppChannelOut is the WhatsApp configuration without its secrets.
type WhatsAppChannelOut struct {
	Provider          string `json:"provider"`
	PhoneNumberID     string `json:"phone_number_id,omitempty"`
	BusinessAccountID string `json:"business_account_id,omitempty"`
	AccessTokenSet    bool   `json:"access_token_set"`
	AppSecretSet      bool   `json:"app_secret_set"`
	VerifyTokenSet    bool   `json:"verify_token_set"`
}

// ChannelsOut are the tenant's channels as the API shows them.
type ChannelsOut struct {
	Email    *EmailChannelOut    `json:"email,omitempty"`
	WhatsApp *WhatsAppChannelOut `json:"whatsapp,omitempty"`
}

// TenantOut is a tenant as the API shows it.
type TenantOut struct {
	ID         string      `json:"id"`
	Name       string      `json:"name"`
	Timezone   string      `json:"timezone"`
	Mode       string      `json:"mode" enum:"legacy,shadow,engine"`
	QuietHours *QuietHours `json:"quiet_hours"`
	Holidays   []string    `json:"holidays"`
	Channels   ChannelsOut `json:"channels"`
	// RetentionDays is how long the timeline is kept.
	RetentionDays int `json:"retention_days" doc:"Days the timeline (events, runs, steps, messages, attempts, receipts, resolved alerts and sent alert emails) is kept; older entries are purged, their statistics kept"`
	// ConsentKeywords are the WhatsApp opt-out and opt-in words in force.
	ConsentKeywords ConsentKeywordsOut `json:"consent_keywords"`
	Alerts          *AlertsSettings    `json:"alerts,omitempty" doc:"Where new alerts are emailed; absent when nowhere"`
	Version         int64              `json:"version"`
	CreatedAt       time.Time          `json:"created_at"`
	UpdatedAt       time.Time          `json:"updated_at"`
}

// ConsentKeywordsOut are the words that, as a customer's whole WhatsApp
// message (or a button's label), opt the lead out of WhatsApp or back in.
type ConsentKeywordsOut struct {
	OptOut        []string `json:"opt_out" doc:"Words that set whatsapp_opt_in false; compared without case, accents or surrounding punctuation"`
	OptIn         []string `json:"opt_in" doc:"Words that set whatsapp_opt_in true again"`
	OptOutDefault bool     `json:"opt_out_default" doc:"opt_out is quoteflow's default list: the tenant has not set its own"`
	OptInDefault  bool     `json:"opt_in_default" doc:"opt_in is quoteflow's default list"`
}

func consentKeywordsOut(k *engine.ConsentKeywords) ConsentKeywordsOut {
	eff := k.Effective()
	return ConsentKeywordsOut{OptOut: nonNil(eff.OptOut), OptIn: nonNil(eff.OptIn),
		OptOutDefault: k == nil || k.OptOut == nil, OptInDefault: k == nil || k.OptIn == nil}
}

// NullableWords is one list of consent keywords as written: a list sets
// it, null goes back to the default list, absent leaves it as it is.
type NullableWords struct {
	Set   bool
	Value []string
}

// UnmarshalJSON records presence and null.
func (n *NullableWords) UnmarshalJSON(b []byte) error {
	n.Set = true
	if string(b) == "null" {
		n.Value = nil
		return nil
	}
	n.Value = []string{}
	return json.Unmarshal(b, &n.Value)
}

// Schema implements huma.SchemaProvider.
func (NullableWords) Schema(huma.Registry) *huma.Schema {
	maxItems, maxLength := engine.MaxConsentKeywords, engine.MaxConsentKeywordLength
	return &huma.Schema{Type: huma.TypeArray, Nullable: true, MaxItems: &maxItems,
		Items:       &huma.Schema{Type: huma.TypeString, MinLength: new(1), MaxLength: &maxLength},
		Description: "Words that, as a customer's whole message, change their consent; null: quoteflow's default list"}
}

// ConsentKeywordsIn sets the tenant's WhatsApp opt-out and opt-in words; a
// list left out is unchanged, null restores the default.
type ConsentKeywordsIn struct {
	OptOut NullableWords `json:"opt_out,omitempty"`
	OptIn  NullableWords `json:"opt_in,omitempty"`
}

// applyConsentKeywords merges input into the tenant's keywords.
func applyConsentKeywords(t *engine.Tenant, in *ConsentKeywordsIn) {
	if in == nil || (!in.OptOut.Set && !in.OptIn.Set) {
		return
	}
	k := engine.ConsentKeywords{}
	if t.ConsentKeywords != nil {
		k = *t.ConsentKeywords
	}
	if in.OptOut.Set {
		k.OptOut = in.OptOut.Value
	}
	if in.OptIn.Set {
		k.OptIn = in.OptIn.Value
	}
	t.ConsentKeywords = &k
	if k.OptOut == nil && k.OptIn == nil {
		t.ConsentKeywords = nil
	}
}

func tenantOut(t *engine.Tenant) TenantOut {
	out := TenantOut{ID: t.ID, Name: t.Name, Timezone: t.Timezone, Mode: string(t.Mode),
		Holidays: nonNil(t.Holidays), RetentionDays: t.RetentionDays, ConsentKeywords: consentKeywordsOut(t.ConsentKeywords),
		Version: t.Version, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt}
	if t.QuietHours != nil {
		out.QuietHours = &QuietHours{Start: t.QuietHours.Start, End: t.QuietHours.End}
	}
	if t.Alerts != nil {
		out.Alerts = &AlertsSettings{Email: t.Alerts.Email}
	}
	if e := t.Channels.Email; e != nil {
		out.Channels.Email = &EmailChannelOut{Provider: e.Provider, Host: e.Host, Port: e.Port, TLS: e.TLS,
			Username: e.Username, PasswordSet: e.Password != "", From: e.From}
	}
	if w := t.Channels.WhatsApp; w != nil {
		out.Channels.WhatsApp = &WhatsAppChannelOut{Provider: w.Provider, PhoneNumberID: w.PhoneNumberID,
			BusinessAccountID: w.BusinessAccountID, AccessTokenSet: w.AccessToken != "",
			AppSecretSet: w.AppSecret != "", VerifyTokenSet: w.VerifyToken != ""}
	}
	return out
}

// applyChannels merges channel input into the stored channels. A secret
// left empty keeps the stored one, so that an admin can change a host
// without re-entering a password nobody can read back.
func applyChannels(c *engine.Channels, in *ChannelsIn) {
	if in == nil {
		return
	}
	if e := in.Email; e != nil {
		next := &engine.EmailChannel{Provider: e.Provider, Host: e.Host, Port: e.Port, TLS: e.TLS,
			Username: e.Username, Password: e.Password, From: e.From}
		if next.Password == "" && c.Email != nil && c.Email.Provider == next.Provider {
			next.Password = c.Email.Password
		}
		if next.Provider == "smtp" && next.TLS == "" {
			next.TLS = "starttls"
		}
		c.Email = next
	}
	if w := in.WhatsApp; w != nil {
		next := &engine.WhatsAppChannel{Provider: w.Provider, PhoneNumberID: w.PhoneNumberID,
			BusinessAccountID: w.BusinessAccountID, AccessToken: w.AccessToken, AppSecret: w.AppSecret, VerifyToken: w.VerifyToken}
		if old := c.WhatsApp; old != nil && old.Provider == next.Provider {
			if next.AccessToken == "" {
				next.AccessToken = old.AccessToken
			}
			if next.AppSecret == "" {
				next.AppSecret = old.AppSecret
			}
			if next.VerifyToken == "" {
				next.VerifyToken = old.VerifyToken
			}
		}
		c.WhatsApp = next
	}
}

// CreateTenantIn is POST /v1/tenants.
type CreateTenantIn struct {
	Name       string      `json:"name" minLength:"1" maxLength:"200"`
	Timezone   string      `json:"timezone,omitempty" example:"Europe/Lisbon" doc:"IANA timezone; default UTC"`
	Mode       string      `json:"mode,omitempty" enum:"legacy,shadow,engine" doc:"default legacy"`
	QuietHours *QuietHours `json:"quiet_hours,omitempty"`
	Holidays   []string    `json:"holidays,omitempty"`
	Channels   *ChannelsIn `json:"channels,omitempty"`
	// RetentionDays is how long the timeline is kept; default 400.
	RetentionDays int `json:"retention_days,omitempty" minimum:"1" maximum:"3650" doc:"Days the timeline is kept; default 400"`
	// ConsentKeywords are the tenant's own opt-out and opt-in words.
	ConsentKeywords *ConsentKeywordsIn `json:"consent_keywords,omitempty" doc:"The tenant's own WhatsApp opt-out and opt-in words; default: STOP, PARAR, BAJA, ARRET, ... and START, ..."`
	// Alerts is where new alerts are emailed.
	Alerts *AlertsSettings `json:"alerts,omitempty"`
}

// KeyOut is an API key; Key, the secret, is only ever in the response that
// creates it.
type KeyOut struct {
	ID         string     `json:"id"`
	Role       string     `json:"role" enum:"admin,app"`
	Key        string     `json:"key,omitempty" doc:"The secret; shown once, at creation"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
}

// CreatedTenantOut is a new tenant with its first admin key.
type CreatedTenantOut struct {
	TenantOut
	APIKey KeyOut `json:"api_key"`
}

// PatchTenantIn is PATCH /v1/tenant; fields left out are unchanged.
type PatchTenantIn struct {
	Name       *string            `json:"name,omitempty" minLength:"1" maxLength:"200"`
	Timezone   *string            `json:"timezone,omitempty"`
	Mode       *string            `json:"mode,omitempty" enum:"legacy,shadow,engine"`
	QuietHours NullableQuietHours `json:"quiet_hours,omitempty"`
	Holidays   []string           `json:"holidays,omitempty"`
	Channels   *ChannelsIn        `json:"channels,omitempty"`
	// RetentionDays is how long the timeline is kept.
	RetentionDays *int `json:"retention_days,omitempty" minimum:"1" maximum:"3650" doc:"Days the timeline is kept; older entries are purged, their statistics kept"`
	// ConsentKeywords changes the tenant's opt-out and opt-in words.
	ConsentKeywords *ConsentKeywordsIn `json:"consent_keywords,omitempty" doc:"The tenant's own WhatsApp opt-out and opt-in words: a list replaces that list, null restores quoteflow's default, a list left out is unchanged"`
	// Alerts is where new alerts are emailed; an empty email removes it.
	Alerts *AlertsSettings `json:"alerts,omitempty"`
}

func (s *Server) createTenant(ctx context.Context, in *body[CreateTenantIn]) (*body[CreatedTenantOut], error) {
	b := in.Body
	t := &engine.Tenant{Name: b.Name, Timezone: b.Timezone, Mode: engine.Mode(b.Mode), Holidays: b.Holidays,
		RetentionDays: b.RetentionDays, Alerts: b.Alerts.settings()}
	if b.QuietHours != nil {
		t.QuietHours = &engine.QuietHours{Start: b.QuietHours.Start, End: b.QuietHours.End}
	}
	applyChannels(&t.Channels, b.Channels)
	applyConsentKeywords(t, b.ConsentKeywords)
	key, secret, err := s.app.CreateTenant(ctx, t)
	if err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	return &body[CreatedTenantOut]{Body: CreatedTenantOut{
		TenantOut: tenantOut(t),
		APIKey:    KeyOut{ID: key.ID, Role: string(key.Role), Key: secret, CreatedAt: key.CreatedAt},
	}}, nil
}

func (s *Server) getTenant(ctx context.Context, _ *struct{}) (*versioned[TenantOut], error) {
	t, err := s.app.GetTenant(ctx, principal(ctx).TenantID)
	if err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	return withETag(tenantOut(t), t.Version), nil
}

type patchTenantInput struct {
	IfMatch
	Body PatchTenantIn
}

func (s *Server) patchTenant(ctx context.Context, in *patchTenantInput) (*versioned[TenantOut], error) {
	want, err := in.version(func() (int64, error) {
		t, err := s.app.GetTenant(ctx, principal(ctx).TenantID)
		if err != nil {
			return 0, err
		}
		return t.Version, nil
	})
	if err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	t, err := s.app.GetTenant(ctx, principal(ctx).TenantID)
	if err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	b := in.Body
	if b.Name != nil {
		t.Name = *b.Name
	}
	if b.Timezone != nil {
		t.Timezone = *b.Timezone
	}
	if b.Mode != nil {
		t.Mode = engine.Mode(*b.Mode)
	}
	if b.QuietHours.Set {
		t.QuietHours = nil
		if v := b.QuietHours.Value; v != nil {
			t.QuietHours = &engine.QuietHours{Start: v.Start, End: v.End}
		}
	}
	if b.Holidays != nil {
		t.Holidays = b.Holidays
	}
	if b.RetentionDays != nil {
		t.RetentionDays = *b.RetentionDays
	}
	if b.Alerts != nil {
		t.Alerts = b.Alerts.settings()
	}
	applyChannels(&t.Channels, b.Channels)
	applyConsentKeywords(t, b.ConsentKeywords)
	if err := s.app.UpdateTenantAs(ctx, principal(ctx).KeyID, t, want); err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	return withETag(tenantOut(t), t.Version), nil
}

var reflectQuietHours = reflect.TypeFor[QuietHours]()

// AlertsSettings is where a tenant's new alerts are emailed (through its
// email channel, at most once an hour per alert kind and subject).
type AlertsSettings struct {
	Email string `json:"email" maxLength:"254" example:"ops@acme.example" doc:"The address new alerts are emailed to, through the tenant's email channel, at most once an hour per alert kind and subject; empty for none"`
}

func (a *AlertsSettings) settings() *engine.AlertSettings {
	if a == nil {
		return nil
	}
	return &engine.AlertSettings{Email: a.Email}
}
