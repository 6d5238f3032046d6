package api

import (
	"context"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
)

// LeadIn is a lead as a client writes it (POST /v1/leads, and the what-if
// lead of the resolver preview).
type LeadIn struct {
	FirstName     string         `json:"first_name,omitempty" maxLength:"200"`
	LastName      string         `json:"last_name,omitempty" maxLength:"200"`
	Email         string         `json:"email,omitempty" example:"ana@example.com"`
	Phone         string         `json:"phone,omitempty" example:"+351912345678" doc:"E.164"`
	Language      string         `json:"language,omitempty" example:"pt"`
	Country       string         `json:"country,omitempty" example:"PT" doc:"ISO 3166-1 alpha-2"`
	Timezone      string         `json:"timezone,omitempty" example:"Europe/Lisbon"`
	Source        string         `json:"source,omitempty"`
	Stage         string         `json:"stage,omitempty"`
	Tags          []string       `json:"tags,omitempty"`
	Owner         string         `json:"owner,omitempty"`
	Custom        map[string]any `json:"custom,omitempty"`
	EmailOptOut   bool           `json:"email_opt_out,omitempty"`
	WhatsAppOptIn bool           `json:"whatsapp_opt_in,omitempty"`
}

func (in *LeadIn) lead() *engine.Lead {
	return &engine.Lead{FirstName: in.FirstName, LastName: in.LastName, Email: in.Email, Phone: in.Phone,
		Language: in.Language, Country: in.Country, Timezone: in.Timezone, Source: in.Source, Stage: in.Stage,
		Tags: in.Tags, Owner: in.Owner, Custom: in.Custom, EmailOptOut: in.EmailOptOut, WhatsAppOptIn: in.WhatsAppOptIn}
}

// LeadPatch is PATCH /v1/leads/{lead_id}; fields left out are unchanged and
// an empty string clears a text field.
type LeadPatch struct {
	FirstName     *string         `json:"first_name,omitempty" maxLength:"200"`
	LastName      *string         `json:"last_name,omitempty" maxLength:"200"`
	Email         *string         `json:"email,omitempty"`
	Phone         *string         `json:"phone,omitempty"`
	Language      *string         `json:"language,omitempty"`
	Country       *string         `json:"country,omitempty"`
	Timezone      *string         `json:"timezone,omitempty"`
	Source        *string         `json:"source,omitempty"`
	Stage         *string         `json:"stage,omitempty"`
	Tags          []string        `json:"tags,omitempty"`
	Owner         *string         `json:"owner,omitempty"`
	Custom        *map[string]any `json:"custom,omitempty"`
	EmailOptOut   *bool           `json:"email_opt_out,omitempty"`
	WhatsAppOptIn *bool           `json:"whatsapp_opt_in,omitempty"`
}

func (p *LeadPatch) apply(l *engine.Lead) {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&l.FirstName, p.FirstName)
	set(&l.LastName, p.LastName)
	set(&l.Email, p.Email)
	set(&l.Phone, p.Phone)
	set(&l.Language, p.Language)
	set(&l.Country, p.Country)
	set(&l.Timezone, p.Timezone)
	set(&l.Source, p.Source)
	set(&l.Stage, p.Stage)
	set(&l.Owner, p.Owner)
	if p.Tags != nil {
		l.Tags = p.Tags
	}
	if p.Custom != nil {
		l.Custom = *p.Custom
	}
	if p.EmailOptOut != nil {
		l.EmailOptOut = *p.EmailOptOut
	}
	if p.WhatsAppOptIn != nil {
		l.WhatsAppOptIn = *p.WhatsAppOptIn
	}
}

// LeadOut is a lead as the API shows it.
type LeadOut struct {
	ID            string         `json:"id"`
	FirstName     string         `json:"first_name"`
	LastName      string         `json:"last_name"`
	Email         string         `json:"email"`
	Phone         string         `json:"phone"`
	Language      string         `json:"language"`
	Country       string         `json:"country"`
	Timezone      string         `json:"timezone"`
	Source        string         `json:"source"`
	Stage         string         `json:"stage"`
	Tags          []string       `json:"tags"`
	Owner         string         `json:"owner"`
	Custom        map[string]any `json:"custom"`
	EmailOptOut   bool           `json:"email_opt_out"`
	WhatsAppOptIn bool           `json:"whatsapp_opt_in"`
	// WhatsAppOptedOutAt is when the customer opted out of WhatsApp.
	WhatsAppOptedOutAt *time.Time `json:"whatsapp_opted_out_at,omitempty" doc:"When the customer opted out of WhatsApp (a keyword such as STOP, Meta's opt-out button or preference); absent when they have not, or opted in since. The lead's timeline lists every consent change"`
	Version            int64      `json:"version"`
	CreatedAt          time.Time  `json:"created_at"`
	UpdatedAt          time.Time  `json:"updated_at"`
}

func leadOut(l *engine.Lead) LeadOut {
	custom := l.Custom
	if custom == nil {
		custom = map[string]any{}
	}
	return LeadOut{ID: l.ID, FirstName: l.FirstName, LastName: l.LastName, Email: l.Email, Phone: l.Phone,
		Language: l.Language, Country: l.Country, Timezone: l.Timezone, Source: l.Source, Stage: l.Stage,
		Tags: nonNil(l.Tags), Owner: l.Owner, Custom: custom, EmailOptOut: l.EmailOptOut,
		WhatsAppOptIn: l.WhatsAppOptIn, WhatsAppOptedOutAt: timePtr(l.WhatsAppOptedOutAt), Version: l.Version,
		CreatedAt: l.CreatedAt, UpdatedAt: l.UpdatedAt}
}

// LeadPath names a lead in the URL.
type LeadPath struct {
	LeadID string `path:"lead_id"`
}

func (s *Server) createLead(ctx context.Context, in *body[LeadIn]) (*versioned[LeadOut], error) {
	l := in.Body.lead()
	l.TenantID = principal(ctx).TenantID
	out := func(l *engine.Lead) *versioned[LeadOut] { return withETag(leadOut(l), l.Version) }
	answerWith(ctx, out)
	if err := s.app.CreateLead(ctx, l); err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	return out(l), nil
}

func (s *Server) getLead(ctx context.Context, in *LeadPath) (*versioned[LeadOut], error) {
	l, err := s.app.GetLead(ctx, principal(ctx).TenantID, in.LeadID)
	if err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	return withETag(leadOut(l), l.Version), nil
}

func (s *Server) listLeads(ctx context.Context, in *PageParams) (*body[List[LeadOut]], error) {
	leads, next, err := s.app.ListLeads(ctx, principal(ctx).TenantID, in.page())
	if err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	return &body[List[LeadOut]]{Body: listOf(leads, next, leadOut)}, nil
}

type patchLeadInput struct {
	LeadPath
	IfMatch
	Body LeadPatch
}

func (s *Server) patchLead(ctx context.Context, in *patchLeadInput) (*versioned[LeadOut], error) {
	want, err := in.version(func() (int64, error) {
		l, err := s.app.GetLead(ctx, principal(ctx).TenantID, in.LeadID)
		if err != nil {
			return 0, err
		}
		return l.Version, nil
	})
	if err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	l, err := s.app.UpdateLead(ctx, principal(ctx).TenantID, in.LeadID, want, in.Body.apply)
	if err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	return withETag(leadOut(l), l.Version), nil
}

func (s *Server) deleteLead(ctx context.Context, in *LeadPath) (*struct{}, error) {
	if err := s.app.DeleteLead(ctx, principal(ctx).TenantID, in.LeadID); err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	return nil, nil
}
