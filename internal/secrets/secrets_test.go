package secrets

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func ring(t *testing.T, old ...[]byte) (*Keyring, []byte) {
	t.Helper()
	raw, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewKeyring(raw, old...)
	if err != nil {
		t.Fatal(err)
	}
	return r, raw
}

func TestSealOpen(t *testing.T) {
	r, _ := ring(t)
	a, err := r.Seal("hunter2", "t1/f")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := r.Seal("hunter2", "t1/f")
	if a == b || !IsSealed(a) || strings.Contains(a, "hunter2") {
		t.Fatalf("sealed values %q, %q: want distinct envelopes without the plaintext", a, b)
	}
	if !strings.HasPrefix(a, Prefix+r.CurrentID()+":") {
		t.Fatalf("envelope %q does not name key %s", a, r.CurrentID())
	}
	plain, id, err := r.Open(a, "t1/f")
	if err != nil || plain != "hunter2" || id != r.CurrentID() {
		t.Fatalf("Open: %q %q %v", plain, id, err)
	}
	if _, _, err := r.Open(a, "t2/f"); !errors.Is(err, ErrDoesNotOpen) {
		t.Fatalf("other AAD: %v", err)
	}
	other, _ := ring(t)
	if _, _, err := other.Open(a, "t1/f"); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("other key: %v", err)
	}
	for _, bad := range []string{"enc:v1:", "enc:v1:abc", "enc:v1:" + r.CurrentID() + ":%%%", "enc:v1:" + r.CurrentID() + ":AAAA"} {
		if _, _, err := r.Open(bad, "t1/f"); !errors.Is(err, ErrMalformed) {
			t.Errorf("Open(%q): %v, want ErrMalformed", bad, err)
		}
	}
	// Flipping one character inside the body (not the last, whose low bits
	// may be padding) is caught.
	i := len(a) - 10
	c := byte('A')
	if a[i] == 'A' {
		c = 'B'
	}
	tampered := a[:i] + string(c) + a[i+1:]
	if _, _, err := r.Open(tampered, "t1/f"); err == nil {
		t.Fatal("a tampered value opened")
	}
}

func TestRotation(t *testing.T) {
	oldRing, oldRaw := ring(t)
	v, _ := oldRing.Seal("s", "aad")
	newRing, _ := ring(t, oldRaw)
	plain, id, err := newRing.Open(v, "aad")
	if err != nil || plain != "s" || id != oldRing.CurrentID() || id == newRing.CurrentID() {
		t.Fatalf("old value with the new ring: %q %q %v", plain, id, err)
	}
	w, _ := newRing.Seal("s", "aad")
	if got, _ := SealedKeyID(w); got != newRing.CurrentID() {
		t.Fatalf("new ring seals with %s, want %s", got, newRing.CurrentID())
	}
}

func TestParseKey(t *testing.T) {
	raw, _ := GenerateKey()
	for _, s := range []string{EncodeKey(raw), " " + EncodeKey(raw) + "\n", strings.TrimRight(EncodeKey(raw), "=")} {
		got, err := ParseKey(s)
		if err != nil || string(got) != string(raw) {
			t.Fatalf("ParseKey(%q): %v", s, err)
		}
	}
	for _, s := range []string{"", "not base64 !!", "c2hvcnQ=", "secret-value-that-must-not-be-echoed"} {
		_, err := ParseKey(s)
		if err == nil || (s != "" && strings.Contains(err.Error(), s)) {
			t.Fatalf("ParseKey(%q): %v", s, err)
		}
	}
	if _, err := NewKeyring(raw[:16]); err == nil {
		t.Fatal("a 16-byte key was accepted")
	}
}

func TestReadKeyFile(t *testing.T) {
	dir := t.TempDir()
	raw, _ := GenerateKey()
	raw[0] = 0xff // not base64 text
	for name, content := range map[string][]byte{"b64": []byte(EncodeKey(raw) + "\n"), "raw": raw} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, content, 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := ReadKeyFile(p)
		if err != nil || string(got) != string(raw) {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if _, err := ReadKeyFile(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}
