package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/quoteflow/quoteflow/internal/api"
	"github.com/quoteflow/quoteflow/internal/app"
	"github.com/quoteflow/quoteflow/internal/channel/logsender"
	"github.com/quoteflow/quoteflow/internal/channel/senders"
	"github.com/quoteflow/quoteflow/internal/channel/whatsapp"
	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
)

const migrateLegacyUsage = `Usage: quoteflow migrate-legacy --tenant ID [--apply] [--json] [--lead ID [--quote ID]]

Prints the migration of the tenant's legacy settings, the same preview as
POST /v1/migration/preview: the workflows and catch-all rules it creates,
per trigger what is sent before and after for a sample lead, and every
disagreement. With --apply it then creates them, in one transaction, as
POST /v1/migration/apply does (the mode is not changed).

Flags:
`

// migrateLegacy is the operator's command for the migration from legacy
// settings. It works on the database directly, like migrate, so that an
// operator can migrate a tenant without one of its API keys; an apply it
// makes is recorded with no API key.
func migrateLegacy(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	env := func(k, def string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return def
	}
	fs := flag.NewFlagSet("quoteflow migrate-legacy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, migrateLegacyUsage)
		fs.PrintDefaults()
	}
	var tenant, lead, quote, dbURL, waBase, logLevel string
	var apply, asJSON bool
	fs.StringVar(&tenant, "tenant", "", "the tenant's id (required)")
	fs.BoolVar(&apply, "apply", false, "create the workflows and rules after printing the preview")
	fs.BoolVar(&asJSON, "json", false, "print the preview (and the apply's result) as JSON, as the API answers")
	fs.StringVar(&lead, "lead", "", "compare for this lead instead of the built-in sample")
	fs.StringVar(&quote, "quote", "", "with --lead: add this quote of the lead to the context")
	fs.StringVar(&dbURL, "database-url", env("QUOTEFLOW_DATABASE_URL", "./quoteflow.db"), "SQLite file path or sqlite:PATH, or postgres://... (QUOTEFLOW_DATABASE_URL)")
	fs.StringVar(&waBase, "whatsapp-api-base", env("QUOTEFLOW_WHATSAPP_API_BASE", "https://graph.facebook.com"), "WhatsApp Cloud API base URL, for checking templates (QUOTEFLOW_WHATSAPP_API_BASE)")
	fs.StringVar(&logLevel, "log-level", env("QUOTEFLOW_LOG_LEVEL", "warn"), "debug, info, warn or error (QUOTEFLOW_LOG_LEVEL)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if tenant == "" {
		fs.Usage()
		return errors.New("migrate-legacy needs --tenant")
	}
	log, err := newLogger(logLevel, stderr)
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, dbURL, log)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	// The tenant's channel secrets are sealed: the same keys as serve's,
	// from the same variables, or the tenant cannot be read.
	var kc config
	secretKeyEnv(&kc, getenv)
	keys, err := loadKeyring(kc, log)
	if err != nil {
		return err
	}
	if keys != nil {
		db.UseSecretKeys(keys)
	}
	a := app.New(db, nil, app.Config{}, log)
	// The same check of WhatsApp templates against the business account
	// as the API makes; the log provider never sends anything here.
	a.Senders = senders.New(senders.Options{Log: logsender.New(log), WhatsAppBaseURL: waBase, WhatsAppThrottle: whatsapp.NewThrottle(0, 0)})
	p, err := a.PreviewMigration(ctx, tenant, app.PreviewRequest{LeadID: lead, QuoteID: quote})
	if err != nil {
		return explain(err)
	}
	out := api.MigrationPreviewOutOf(p)
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return err
		}
	} else {
		printPreview(stdout, tenant, out)
	}
	if !apply {
		if !asJSON {
			fmt.Fprintf(stdout, "\nNothing was changed. To create these, run: quoteflow migrate-legacy --tenant %s --apply\n", tenant)
		}
		return nil
	}
	res, err := a.ApplyMigration(ctx, tenant, "", p.ID)
	if err != nil {
		return explain(err)
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		created, _ := json.Marshal(res)
		var v map[string]any
		_ = json.Unmarshal(created, &v)
		v["replayed"] = res.Replayed
		return enc.Encode(v)
	}
	if res.Replayed {
		fmt.Fprintf(stdout, "\nThis preview was already applied at %s; nothing was created.\n", res.AppliedAt.Format("2006-01-02 15:04:05Z07:00"))
	} else {
		fmt.Fprintf(stdout, "\nApplied at %s:\n", res.AppliedAt.Format("2006-01-02 15:04:05Z07:00"))
	}
	for _, c := range res.Created {
		fmt.Fprintf(stdout, "  %-15s workflow %s, rule %s (priority %d)\n", c.Trigger, c.WorkflowID, c.RuleID, c.Priority)
	}
	fmt.Fprintln(stdout, "The mode is unchanged: move it to shadow, read GET /v1/shadow/report, then move it to engine.")
	return nil
}

// explain turns a domain error into the sentence an operator reads.
func explain(err error) error {
	var e *engine.Error
	if !errors.As(err, &e) {
		return err
	}
	msg := e.Message
	for _, f := range e.Fields {
		msg += "\n  " + f.Field + ": " + f.Message
		if f.Line > 0 {
			msg += fmt.Sprintf(" (line %d, column %d)", f.Line, f.Column)
		}
	}
	return errors.New(msg)
}

// printPreview writes a preview for people.
func printPreview(w io.Writer, tenant string, p api.MigrationPreviewOut) {
	fmt.Fprintf(w, "Migration of tenant %s from legacy settings\n", tenant)
	fmt.Fprintf(w, "  preview id:  %s (legacy settings %s)\n", p.ID, p.SettingsHash[:12])
	switch {
	case p.Applied && p.Result != nil:
		fmt.Fprintf(w, "  status:      applied at %s\n", p.Result.AppliedAt.Format("2006-01-02 15:04:05Z07:00"))
	case p.Applicable:
		fmt.Fprintln(w, "  status:      not applied; can be applied")
	default:
		fmt.Fprintln(w, "  status:      not applied; CANNOT be applied until the blocking disagreements are fixed")
	}
	fmt.Fprintf(w, "  sample:      %s\n", p.Sample.Description)
	fmt.Fprintf(w, "  policy:      %s\n", p.Policy)

	fmt.Fprintln(w, "\nCreates:")
	if len(p.Plan) == 0 {
		fmt.Fprintln(w, "  nothing: the legacy settings send on no trigger")
	}
	for _, pm := range p.Plan {
		var steps []string
		for _, s := range pm.Workflow.Steps {
			steps = append(steps, string(s.Type))
		}
		fmt.Fprintf(w, "  %-15s workflow %q (%s), catch-all rule %q at priority %d\n", pm.Trigger, pm.Workflow.Name, strings.Join(steps, ", "), pm.Rule.Name, pm.Rule.Priority)
	}

	fmt.Fprintln(w, "\nPer trigger, for the sample (legacy → engine):")
	for _, tc := range p.Triggers {
		verdict := "same"
		if !tc.Agree {
			verdict = "DIFFERENT"
		}
		fmt.Fprintf(w, "  %-15s %-9s legacy: %s\n", tc.Trigger, verdict, sideSummary(tc.Before))
		fmt.Fprintf(w, "  %-15s %-9s engine: %s\n", "", "", sideSummary(tc.After))
	}

	fmt.Fprintf(w, "\nDisagreements (%d):\n", len(p.Disagreements))
	if len(p.Disagreements) == 0 {
		fmt.Fprintln(w, "  none")
	}
	for _, d := range p.Disagreements {
		tag := ""
		if d.Blocking {
			tag = "[blocking] "
		}
		where := d.Trigger
		if d.Field != "" {
			where = d.Field
			if d.Line > 0 {
				where += fmt.Sprintf(" (line %d, column %d)", d.Line, d.Column)
			}
		}
		fmt.Fprintf(w, "  - %s%s %s: %s\n", tag, d.Kind, where, d.Detail)
	}
}

// sideSummary is a decision and its messages on one line.
func sideSummary(s api.MigrationSideOut) string {
	d := string(s.Decision.Outcome) + " (" + s.Decision.Reason + ")"
	if len(s.Messages) == 0 {
		return d + ", sends nothing"
	}
	var ms []string
	for _, m := range s.Messages {
		switch {
		case m.Suppressed:
			ms = append(ms, m.Channel+" suppressed: "+m.Reason)
		case m.RenderError != "":
			ms = append(ms, m.Channel+" fails to render: "+m.RenderError)
		case m.Template != nil:
			ms = append(ms, fmt.Sprintf("%s template %s %v to %s", m.Channel, m.Template.Template, m.Template.Parameters, m.To))
		default:
			ms = append(ms, fmt.Sprintf("%s %q to %s", m.Channel, m.Subject, m.To))
		}
	}
	return d + ", sends " + strings.Join(ms, "; ")
}
