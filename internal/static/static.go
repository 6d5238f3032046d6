// Package static serves files embedded in the binary (the editor's build,
// the API reference's renderer, the quote page's script and style sheet):
// each with an entity tag from its content, so that a revalidation is a
// 304, and a media type from a fixed table rather than the machine's MIME
// database, which may name a script differently from one host to the next.
package static

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

// Files are the embedded files under one directory, by their path below it
// ("index.html", "assets/app.js").
type Files map[string]file

type file struct {
	body []byte
	// hash is the hex of the first 16 bytes of the content's SHA-256.
	hash string
}

// Load reads every file under root in fsys. Embedded files cannot fail to
// read, so an error is a build mistake and panics.
func Load(fsys fs.FS, root string) Files {
	out := Files{}
	err := fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		out[strings.TrimPrefix(p, root+"/")] = file{body: b, hash: hex.EncodeToString(sum[:16])}
		return nil
	})
	if err != nil {
		panic("static: " + err.Error())
	}
	return out
}

// Version is the content hash of the file named name, for addresses that
// change with the content ("app.js?v=…"); "" when there is no such file.
func (f Files) Version(name string) string { return f[name].hash }

// contentTypes are the media types of the files served, by extension.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".txt":  "text/plain; charset=utf-8",
}

// Serve answers r with the file named name and cacheControl, and reports
// whether there is such a file (if not, nothing is written). Headers the
// caller set before, such as a Content-Security-Policy, are kept.
func (f Files) Serve(w http.ResponseWriter, r *http.Request, name, cacheControl string) bool {
	x, ok := f[name]
	if !ok {
		return false
	}
	ct, ok := contentTypes[path.Ext(name)]
	if !ok {
		ct = "application/octet-stream"
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", cacheControl)
	h.Set("ETag", `"`+x.hash+`"`)
	http.ServeContent(w, r, path.Base(name), time.Time{}, bytes.NewReader(x.body))
	return true
}

// Immutable is the Cache-Control of a file whose address names its
// content: another version is another address.
const Immutable = "public, max-age=31536000, immutable"
