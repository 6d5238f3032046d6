package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/quoteflow/quoteflow/internal/channel/whatsapp"
	"github.com/quoteflow/quoteflow/internal/engine"
)

// templateTTL is how long a tenant's synced WhatsApp templates are trusted.
// Approval changes at Meta are rare and an admin fixing a template can use
// the sync route to see it at once.
const templateTTL = 5 * time.Minute

// templateLister is what a WhatsApp Cloud API sender offers besides sending.
type templateLister interface {
	ListTemplates(ctx context.Context) ([]whatsapp.Template, error)
}

// templateEntry is a tenant's template list in the App's cache, by tenant
// id.
type templateEntry struct {
	key       string // the account the list belongs to
	templates []whatsapp.Template
	at        time.Time
}

// WhatsAppTemplates returns the tenant's message templates as the business
// account has them, synced at most templateTTL ago unless fresh is set. ok
// is false when the tenant has no Cloud API account to ask.
func (a *App) WhatsAppTemplates(ctx context.Context, tenant *engine.Tenant, fresh bool) (ts []whatsapp.Template, ok bool, err error) {
	w := tenant.Channels.WhatsApp
	if w == nil || w.Provider != "cloud_api" || w.BusinessAccountID == "" || a.Senders == nil {
		return nil, false, nil
	}
	key := w.BusinessAccountID + "/" + w.PhoneNumberID
	e, hit := a.templates.Get(tenant.ID)
	if hit && !fresh && e.key == key && a.Now().Sub(e.at) < templateTTL {
		return e.templates, true, nil
	}
	s, _, err := a.Senders.For(tenant, engine.ChannelWhatsApp)
	if err != nil {
		return nil, false, err
	}
	lister, isLister := s.(templateLister)
	if !isLister {
		return nil, false, nil
	}
	if ts, err = lister.ListTemplates(ctx); err != nil {
		return nil, true, err
	}
	a.templates.Add(tenant.ID, templateEntry{key: key, templates: ts, at: a.Now()})
	return ts, true, nil
}

// checkTemplates checks every WhatsApp step of w against the tenant's
// approved templates: the template must exist in the step's language, be
// approved, and take as many body parameters as the step gives. When Meta
// cannot be reached the workflow is saved unchecked, with a warning in the
// log: an outage at the provider must not stop admins from editing.
func (a *App) checkTemplates(ctx context.Context, tenantID string, w *engine.Workflow) error {
	needs := false
	for _, s := range w.Steps {
		needs = needs || (s.WhatsApp != nil && s.WhatsApp.Template != "")
	}
	if !needs {
		return nil
	}
	tenant, err := a.db.GetTenant(ctx, tenantID)
	if err != nil {
		return err
	}
	ts, ok, err := a.WhatsAppTemplates(ctx, tenant, false)
	if err != nil {
		a.log.WarnContext(ctx, "could not sync WhatsApp templates; saving the workflow unchecked", "tenant_id", tenantID, "err", err)
		return nil
	}
	if !ok {
		return nil
	}
	var fe []engine.FieldError
	for i, s := range w.Steps {
		if s.WhatsApp == nil || s.WhatsApp.Template == "" {
			continue // a free-form text needs no approved template
		}
		if err := whatsapp.CheckTemplate(ts, s.WhatsApp.Template, s.WhatsApp.Language, len(s.WhatsApp.Parameters)); err != nil {
			field := fmt.Sprintf("body.steps[%d].whatsapp.template", i)
			if errors.Is(err, whatsapp.ErrTemplateParameters) {
				field = fmt.Sprintf("body.steps[%d].whatsapp.parameters", i)
			}
			fe = append(fe, engine.FieldError{Field: field, Message: err.Error()})
		}
	}
	if len(fe) > 0 {
		return &engine.Error{Code: engine.EINVALID, Message: "validation failed", Fields: fe}
	}
	return nil
}
