package httpcore

// Limits bounds what a client may send. The zero value of a field means
// the default from DefaultLimits.
type Limits struct {
	// MaxRequestLine is the longest request line accepted (414 beyond it).
	MaxRequestLine int `json:"max_request_line_bytes"`
	// MaxHeaderLine is the longest single header field line (431 beyond it).
	MaxHeaderLine int `json:"max_header_line_bytes"`
	// MaxHeaders is the largest number of header fields (431 beyond it).
	MaxHeaders int `json:"max_headers"`
	// MaxBody is the largest request body accepted (413 beyond it).
	MaxBody int64 `json:"max_body_bytes"`
}

// DefaultLimits are the limits used where a Limits field is zero; they
// match common server defaults (nginx: 8 KiB lines, Apache: 100 fields).
var DefaultLimits = Limits{
	MaxRequestLine: 8192,
	MaxHeaderLine:  8192,
	MaxHeaders:     100,
	MaxBody:        1 << 20,
}

// WithDefaults returns l with every zero (or negative) field set to its
// value in DefaultLimits.
func (l Limits) WithDefaults() Limits {
	d := DefaultLimits
	if l.MaxRequestLine <= 0 {
		l.MaxRequestLine = d.MaxRequestLine
	}
	if l.MaxHeaderLine <= 0 {
		l.MaxHeaderLine = d.MaxHeaderLine
	}
	if l.MaxHeaders <= 0 {
		l.MaxHeaders = d.MaxHeaders
	}
	if l.MaxBody <= 0 {
		l.MaxBody = d.MaxBody
	}
	return l
}

// Method identifies a request method without allocating a string.
type Method uint8

// Methods the core knows. MethodUnknown is a well-formed token that is not
// one of them (answered 501).
const (
	MethodUnknown Method = iota
	MethodGET
	MethodHEAD
	MethodPOST
	MethodPUT
	MethodDELETE
	MethodOPTIONS
	MethodTRACE
	MethodCONNECT
	MethodPATCH
)

// Header is one header field; Name and Value alias the parsed buffer.
// Value has leading and trailing whitespace removed.
type Header struct {
	Name  []byte
	Value []byte
}

// Request is one parsed request. Every byte slice aliases the buffer given
// to Parser.Parse and is valid only until that buffer is reused. A Request
// is reused between requests; Reset clears it without freeing its storage.
type Request struct {
	Method      Method
	MethodBytes []byte // the method token as sent
	Target      []byte // the raw request-target
	Path        []byte // Target before '?', still percent-encoded
	Query       []byte // Target after '?', without the '?'
	Major       int    // HTTP major version
	Minor       int    // HTTP minor version
	KeepAlive   bool   // the connection persists after this response

	Host            []byte
	IfModifiedSince []byte
	// ContentLength is the declared body length, -1 when absent.
	ContentLength int64
	// Chunked is true for Transfer-Encoding: chunked.
	Chunked bool
	// Headers holds every field in order; its backing array is reused.
	Headers []Header
}

// Error is a request the core refuses: Status is the HTTP status to answer
// (400, 405, 413, 414, 431, 501, 505, ...). Close is always true for
// parse errors: the stream can no longer be trusted.
type Error struct {
	Status int
	Reason string // a short lowercase reason, for logs and error bodies
}

func (e *Error) Error() string { return "httpcore: " + e.Reason }
