package conformance

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// maxHeaderBytes bounds a response header, so that a server that never
// ends its header fails the case instead of filling memory.
const maxHeaderBytes = 64 << 10

// Response is one parsed HTTP response.
type Response struct {
	Proto  string // "HTTP/1.1"
	Status int
	Reason string
	// Header maps lower-case field names to their values, in order.
	Header map[string][]string
	// ContentLength is the Content-Length value, -1 when absent.
	ContentLength int64
	Body          []byte
}

// Get returns the first value of the field name (any case), or "".
func (r *Response) Get(name string) string {
	if v := r.Header[strings.ToLower(name)]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Has reports whether the field name (any case) is present.
func (r *Response) Has(name string) bool {
	return len(r.Header[strings.ToLower(name)]) > 0
}

// ReadResponse reads one response from br. head says it answers a HEAD
// request; 1xx, 204 and 304 responses have no body either. A body must be
// delimited by Content-Length: flashbench servers never send chunked
// responses, and a body read to EOF would hide a connection that fails to
// close.
func ReadResponse(br *bufio.Reader, head bool) (*Response, error) {
	line, err := readLine(br)
	if err != nil {
		return nil, fmt.Errorf("read status line: %w", err)
	}
	r := &Response{Header: map[string][]string{}, ContentLength: -1}
	if err := r.parseStatusLine(line); err != nil {
		return nil, err
	}
	if err := r.readHeader(br); err != nil {
		return nil, err
	}
	if head || r.Status/100 == 1 || r.Status == 204 || r.Status == 304 {
		return r, nil
	}
	if r.ContentLength < 0 {
		return nil, fmt.Errorf("response %d has a body without Content-Length", r.Status)
	}
	r.Body = make([]byte, r.ContentLength)
	if _, err := io.ReadFull(br, r.Body); err != nil {
		return nil, fmt.Errorf("read %d-byte body: %w", r.ContentLength, err)
	}
	return r, nil
}

// parseStatusLine parses "HTTP/1.1 200 OK".
func (r *Response) parseStatusLine(line string) error {
	proto, rest, ok1 := strings.Cut(line, " ")
	code, reason, ok2 := strings.Cut(rest, " ")
	status, err := strconv.Atoi(code)
	if !ok1 || !ok2 || err != nil || len(code) != 3 || status < 100 || (proto != "HTTP/1.1" && proto != "HTTP/1.0") {
		return fmt.Errorf("malformed status line %q", line)
	}
	r.Proto, r.Status, r.Reason = proto, status, reason
	return nil
}

// readHeader reads header fields up to the empty line.
func (r *Response) readHeader(br *bufio.Reader) error {
	total := 0
	for {
		line, err := readLine(br)
		if err != nil {
			return fmt.Errorf("read header: %w", err)
		}
		if line == "" {
			return nil
		}
		if total += len(line); total > maxHeaderBytes {
			return fmt.Errorf("response header over %d bytes", maxHeaderBytes)
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return fmt.Errorf("malformed header line %q", line)
		}
		name = strings.ToLower(name)
		value = strings.Trim(value, " \t")
		r.Header[name] = append(r.Header[name], value)
		if name == "content-length" {
			n, err := strconv.ParseInt(value, 10, 64)
			if err != nil || n < 0 || (r.ContentLength >= 0 && n != r.ContentLength) {
				return fmt.Errorf("bad Content-Length %q", value)
			}
			r.ContentLength = n
		}
	}
}

// readLine reads one line that must end in CRLF and returns it without.
func readLine(br *bufio.Reader) (string, error) {
	var b []byte
	for {
		chunk, err := br.ReadSlice('\n')
		b = append(b, chunk...)
		if err == bufio.ErrBufferFull && len(b) <= maxHeaderBytes {
			continue
		}
		if err != nil {
			if err == io.EOF && len(b) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return "", err
		}
		break
	}
	if !bytes.HasSuffix(b, []byte("\r\n")) {
		return "", fmt.Errorf("line %q does not end in CRLF", b)
	}
	return string(b[:len(b)-2]), nil
}
