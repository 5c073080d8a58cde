package httpcore

// mimeTypes is the fixed extension table. It is fixed on purpose: every
// architecture and every machine must send the same bytes, which the
// system MIME database would not guarantee.
var mimeTypes = map[string]string{
	"html":  "text/html; charset=utf-8",
	"htm":   "text/html; charset=utf-8",
	"txt":   "text/plain; charset=utf-8",
	"css":   "text/css; charset=utf-8",
	"js":    "text/javascript; charset=utf-8",
	"mjs":   "text/javascript; charset=utf-8",
	"json":  "application/json",
	"xml":   "text/xml; charset=utf-8",
	"csv":   "text/csv; charset=utf-8",
	"md":    "text/markdown; charset=utf-8",
	"png":   "image/png",
	"jpg":   "image/jpeg",
	"jpeg":  "image/jpeg",
	"gif":   "image/gif",
	"svg":   "image/svg+xml",
	"ico":   "image/vnd.microsoft.icon",
	"webp":  "image/webp",
	"avif":  "image/avif",
	"bmp":   "image/bmp",
	"pdf":   "application/pdf",
	"zip":   "application/zip",
	"gz":    "application/gzip",
	"tar":   "application/x-tar",
	"bz2":   "application/x-bzip2",
	"xz":    "application/x-xz",
	"zst":   "application/zstd",
	"mp3":   "audio/mpeg",
	"ogg":   "audio/ogg",
	"wav":   "audio/wav",
	"mp4":   "video/mp4",
	"webm":  "video/webm",
	"wasm":  "application/wasm",
	"woff":  "font/woff",
	"woff2": "font/woff2",
	"ttf":   "font/ttf",
	"otf":   "font/otf",
}

// DefaultMIMEType is the Content-Type of a file whose extension the table
// does not know.
const DefaultMIMEType = "application/octet-stream"

// MIMEType returns the Content-Type for a file name by its extension,
// ignoring case.
func MIMEType(name string) string {
	dot := -1
	for i := len(name) - 1; i >= 0 && name[i] != '/'; i-- {
		if name[i] == '.' {
			dot = i
			break
		}
	}
	if dot < 0 || len(name)-dot-1 > 8 {
		return DefaultMIMEType
	}
	var low [8]byte
	ext := low[:len(name)-dot-1]
	for i := range ext {
		b := name[dot+1+i]
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		ext[i] = b
	}
	if t, ok := mimeTypes[string(ext)]; ok {
		return t
	}
	return DefaultMIMEType
}
