package app

import (
	"flag"

	"github.com/quoteflow/quoteflow/internal/envvar"
)

// RegisterFlags adds the --cache-* flags that set s, each defaulting to its
// QUOTEFLOW_CACHE_* variable and then to the App's default, so that serve
// and the bench read the same settings the same way.
func (s *CacheSizes) RegisterFlags(fs *flag.FlagSet, getenv func(string) string) {
	d := DefaultCacheSizes()
	fs.IntVar(&s.Keys, "cache-keys", envvar.Int(getenv, "QUOTEFLOW_CACHE_KEYS", d.Keys),
		"API keys kept verified in memory (QUOTEFLOW_CACHE_KEYS)")
	fs.IntVar(&s.RuleSets, "cache-rule-sets", envvar.Int(getenv, "QUOTEFLOW_CACHE_RULE_SETS", d.RuleSets),
		"tenants whose compiled rules are kept in memory (QUOTEFLOW_CACHE_RULE_SETS)")
	fs.Int64Var(&s.RuleSetBytes, "cache-rule-set-bytes", int64(envvar.Int(getenv, "QUOTEFLOW_CACHE_RULE_SET_BYTES", int(d.RuleSetBytes))),
		"estimated bytes of compiled rules kept in memory (QUOTEFLOW_CACHE_RULE_SET_BYTES)")
	fs.IntVar(&s.Versions, "cache-versions", envvar.Int(getenv, "QUOTEFLOW_CACHE_VERSIONS", d.Versions),
		"workflow versions kept in memory (QUOTEFLOW_CACHE_VERSIONS)")
	fs.Int64Var(&s.VersionBytes, "cache-version-bytes", int64(envvar.Int(getenv, "QUOTEFLOW_CACHE_VERSION_BYTES", int(d.VersionBytes))),
		"estimated bytes of workflow versions kept in memory (QUOTEFLOW_CACHE_VERSION_BYTES)")
	fs.IntVar(&s.Templates, "cache-whatsapp-templates", envvar.Int(getenv, "QUOTEFLOW_CACHE_WHATSAPP_TEMPLATES", d.Templates),
		"tenants whose WhatsApp template list is kept in memory (QUOTEFLOW_CACHE_WHATSAPP_TEMPLATES)")
	fs.IntVar(&s.Tenants, "cache-tenants", envvar.Int(getenv, "QUOTEFLOW_CACHE_TENANTS", d.Tenants),
		"tenant rows kept in memory for quote actions and steps (QUOTEFLOW_CACHE_TENANTS)")
}
