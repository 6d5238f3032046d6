// Package archtest holds the tests that keep the package layout of
// docs/ARCHITECTURE.md true: which way imports point, and that the
// production binary carries no test code. They ask the go command, which
// knows build tags and vendoring as the compiler does, rather than parse
// files themselves.
package archtest

import (
	"bufio"
	"bytes"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

const module = "github.com/quoteflow/quoteflow"

// goList runs `go list` in the module root with the given arguments and
// returns its output lines.
func goList(t *testing.T, args ...string) []string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to check the layout: %v", err)
	}
	_, here, _, _ := runtime.Caller(0)
	cmd := exec.Command(gobin, append([]string{"list"}, args...)...)
	cmd.Dir = filepath.Join(filepath.Dir(here), "..", "..")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %v: %v\n%s", args, err, stderr.String())
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// imports maps each package of the module to the project packages its
// non-test files import.
func imports(t *testing.T) map[string][]string {
	t.Helper()
	m := map[string][]string{}
	for _, l := range goList(t, "-f", `{{.ImportPath}} {{join .Imports " "}}`, "./...") {
		f := strings.Fields(l)
		var own []string
		for _, imp := range f[1:] {
			if imp == module || strings.HasPrefix(imp, module+"/") {
				own = append(own, imp)
			}
		}
		m[f[0]] = own
	}
	return m
}

func under(pkg, dir string) bool {
	p := module + "/" + dir
	return pkg == p || strings.HasPrefix(pkg, p+"/")
}

// rule is one constraint on imports: packages that from matches may not
// import packages that banned matches.
type rule struct {
	name   string
	from   func(pkg string) bool
	banned func(imp string) bool
}

func TestImportsPointInward(t *testing.T) {
	rules := []rule{
		{
			name:   "api reaches storage only through app",
			from:   func(p string) bool { return under(p, "internal/api") },
			banned: func(i string) bool { return under(i, "internal/store") },
		},
		{
			name:   "the domain package imports nothing of the project",
			from:   func(p string) bool { return p == module+"/internal/engine" },
			banned: func(i string) bool { return true },
		},
		{
			name: "the engine's parts import only the engine",
			from: func(p string) bool {
				return under(p, "internal/engine") && p != module+"/internal/engine"
			},
			banned: func(i string) bool { return !under(i, "internal/engine") },
		},
		{
			name: "channels know nothing of the application, HTTP or jobs",
			from: func(p string) bool { return under(p, "internal/channel") },
			banned: func(i string) bool {
				return under(i, "internal/app") || under(i, "internal/api") || under(i, "internal/jobs")
			},
		},
		{
			name: "storage knows nothing of the application, HTTP, jobs or channels",
			from: func(p string) bool { return under(p, "internal/store") },
			banned: func(i string) bool {
				return under(i, "internal/app") || under(i, "internal/api") ||
					under(i, "internal/jobs") || under(i, "internal/channel")
			},
		},
		{
			name:   "jobs call the application through their own interface",
			from:   func(p string) bool { return under(p, "internal/jobs") },
			banned: func(i string) bool { return under(i, "internal/app") || under(i, "internal/api") },
		},
		{
			name:   "telemetry (context ids, log handler, tracing setup) imports nothing of the project",
			from:   func(p string) bool { return under(p, "internal/telemetry") },
			banned: func(i string) bool { return under(i, "internal") },
		},
	}
	pkgs := imports(t)
	if len(pkgs) < 10 {
		t.Fatalf("go list found only %d packages; the check would prove nothing", len(pkgs))
	}
	for _, r := range rules {
		checked := 0
		for pkg, imps := range pkgs {
			if !r.from(pkg) {
				continue
			}
			checked++
			for _, imp := range imps {
				if r.banned(imp) {
					t.Errorf("%s: %s imports %s", r.name, pkg, imp)
				}
			}
		}
		if checked == 0 {
			t.Errorf("%s: no package matched; the rule is stale", r.name)
		}
	}
}

// TestBinaryCarriesNoTestCode keeps the testing package, httptest and the
// provider fakes out of the quoteflow binary: they would be dead weight,
// and a fake reachable from production code is a fake that can be wired in
// by mistake.
func TestBinaryCarriesNoTestCode(t *testing.T) {
	deps := goList(t, "-deps", "./cmd/quoteflow")
	if len(deps) < 20 {
		t.Fatalf("go list -deps found only %d packages", len(deps))
	}
	for _, d := range deps {
		if d == "testing" || d == "net/http/httptest" ||
			strings.HasSuffix(d, "test") && strings.HasPrefix(d, module+"/") {
			t.Errorf("the binary links %s", d)
		}
	}
}
