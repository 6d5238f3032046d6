// Package secrets seals the channel secrets a tenant stores (SMTP
// passwords, WhatsApp tokens) with AES-256-GCM before they reach the
// database, and opens them again when the store reads the tenant.
//
// A sealed value is a versioned envelope,
//
//	enc:v1:<key id>:<base64url(nonce | ciphertext | tag)>
//
// with a random 96-bit nonce per value and additional authenticated data
// chosen by the caller (the store binds each value to its tenant and its
// field, so a ciphertext copied to another tenant or field does not open).
// The key id is derived from the key, so a Keyring holding the current key
// and any number of old ones knows which key opens a value: keys rotate
// without re-encrypting everything at once.
//
// Errors never contain a key, a plaintext or a ciphertext.
package secrets

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
)

// KeySize is the length of a key in bytes: AES-256.
const KeySize = 32

// Prefix starts every sealed value. A stored value without it is a
// plaintext from before encryption existed, read as it is.
const Prefix = "enc:v1:"

// ErrUnknownKey means a value was sealed with a key the Keyring does not hold.
var ErrUnknownKey = errors.New("sealed with a key that is not configured")

// ErrDoesNotOpen means the value did not authenticate: a wrong key with a
// colliding id, a damaged value, or a value moved to another tenant or field.
var ErrDoesNotOpen = errors.New("does not open: damaged, or moved from another tenant or field")

// ErrMalformed means a value has the envelope's prefix but not its shape.
var ErrMalformed = errors.New("malformed sealed value")

type key struct {
	id   string
	aead cipher.AEAD
}

// Keyring holds the current key, which seals, and old keys, which only
// open. The zero value is not usable; build one with NewKeyring.
type Keyring struct {
	current *key
	byID    map[string]*key
}

// KeyID returns the id under which raw is named in sealed values: the first
// 6 bytes of its SHA-256, in hex. It identifies a key without revealing it.
func KeyID(raw []byte) string {
	sum := sha256.Sum256(append([]byte("quoteflow secret key id\x00"), raw...))
	return hex.EncodeToString(sum[:6])
}

func newKey(raw []byte) (*key, error) {
	if len(raw) != KeySize {
		return nil, fmt.Errorf("secret key is %d bytes, want %d", len(raw), KeySize)
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &key{id: KeyID(raw), aead: aead}, nil
}

// NewKeyring returns a Keyring that seals with current and opens with
// current and every old key. Old keys equal to current are ignored.
func NewKeyring(current []byte, old ...[]byte) (*Keyring, error) {
	c, err := newKey(current)
	if err != nil {
		return nil, fmt.Errorf("current %w", err)
	}
	r := &Keyring{current: c, byID: map[string]*key{c.id: c}}
	for i, raw := range old {
		k, err := newKey(raw)
		if err != nil {
			return nil, fmt.Errorf("old key %d: %w", i+1, err)
		}
		if _, dup := r.byID[k.id]; !dup {
			r.byID[k.id] = k
		}
	}
	return r, nil
}

// CurrentID returns the id of the key that seals.
func (r *Keyring) CurrentID() string { return r.current.id }

// Seal encrypts plaintext with the current key and a fresh random nonce,
// bound to aad.
func (r *Keyring) Seal(plaintext, aad string) (string, error) {
	k := r.current
	nonce := make([]byte, k.aead.NonceSize(), k.aead.NonceSize()+len(plaintext)+k.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("secrets: nonce: %w", err)
	}
	sealed := k.aead.Seal(nonce, nonce, []byte(plaintext), []byte(aad))
	return Prefix + k.id + ":" + base64.RawURLEncoding.EncodeToString(sealed), nil
}

// Open decrypts a value made by Seal with the same aad. keyID is the id of
// the key that opened it, so that callers can tell whether it needs
// re-sealing with the current key.
func (r *Keyring) Open(value, aad string) (plaintext, keyID string, err error) {
	id, body, err := parse(value)
	if err != nil {
		return "", "", err
	}
	k, ok := r.byID[id]
	if !ok {
		return "", id, fmt.Errorf("key id %s: %w", id, ErrUnknownKey)
	}
	raw, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil || len(raw) < k.aead.NonceSize()+k.aead.Overhead() {
		return "", id, ErrMalformed
	}
	n := k.aead.NonceSize()
	out, err := k.aead.Open(nil, raw[:n], raw[n:], []byte(aad))
	if err != nil {
		return "", id, fmt.Errorf("key id %s: %w", id, ErrDoesNotOpen)
	}
	return string(out), id, nil
}

// IsSealed reports whether value is an envelope rather than a legacy
// plaintext.
func IsSealed(value string) bool { return strings.HasPrefix(value, Prefix) }

// SealedKeyID returns the key id of a sealed value.
func SealedKeyID(value string) (string, error) {
	id, _, err := parse(value)
	return id, err
}

func parse(value string) (id, body string, err error) {
	rest, ok := strings.CutPrefix(value, Prefix)
	if !ok {
		return "", "", ErrMalformed
	}
	id, body, ok = strings.Cut(rest, ":")
	if !ok || id == "" || body == "" {
		return "", "", ErrMalformed
	}
	return id, body, nil
}

// GenerateKey returns a new random key.
func GenerateKey() ([]byte, error) {
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("secrets: generate key: %w", err)
	}
	return k, nil
}

// EncodeKey returns raw as standard base64, the form ParseKey reads.
func EncodeKey(raw []byte) string { return base64.StdEncoding.EncodeToString(raw) }

// ParseKey decodes a key written as base64 (standard or URL alphabet,
// padded or not) of 32 bytes. The error does not repeat the input.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if raw, err := enc.DecodeString(s); err == nil {
			if len(raw) != KeySize {
				return nil, fmt.Errorf("secret key decodes to %d bytes, want %d (make one with: openssl rand -base64 32)", len(raw), KeySize)
			}
			return raw, nil
		}
	}
	return nil, errors.New("secret key is not base64 (make one with: openssl rand -base64 32)")
}

// ReadKeyFile reads a key file: base64 of 32 bytes (surrounding whitespace
// ignored), or exactly 32 raw bytes.
func ReadKeyFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("secret key file: %w", err)
	}
	if len(b) == KeySize && !isBase64Text(b) {
		return b, nil
	}
	raw, err := ParseKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("secret key file %s: %w", path, err)
	}
	return raw, nil
}

func isBase64Text(b []byte) bool {
	return len(bytes.Trim(b, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_ \t\r\n")) == 0
}
