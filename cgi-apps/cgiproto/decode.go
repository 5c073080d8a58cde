package cgiproto

import "encoding/binary"

// decoder reads a payload front to back; the first failure sticks.
type decoder struct {
	b   []byte
	bad bool
}

func (d *decoder) uvarint() uint64 {
	if d.bad {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.bad = true
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if d.bad || n > uint64(len(d.b)) {
		d.bad = true
		return nil
	}
	b := d.b[:n:n]
	d.b = d.b[n:]
	return b
}

// count reads an element count, refusing more than max or more than the
// remaining bytes could hold (each element takes at least min bytes).
func (d *decoder) count(max, min int) int {
	n := d.uvarint()
	if d.bad || n > uint64(max) || n*uint64(min) > uint64(len(d.b)) {
		d.bad = true
		return 0
	}
	return int(n)
}

func (d *decoder) done() error {
	if d.bad || len(d.b) != 0 {
		return ErrCorrupt
	}
	return nil
}

// DecodeRequest decodes a request payload into r, reusing its Headers.
func DecodeRequest(payload []byte, r *Request) error {
	d := decoder{b: payload}
	r.ID = d.uvarint()
	r.Method = d.bytes()
	r.Path = d.bytes()
	r.Query = d.bytes()
	n := d.count(MaxHeaders, 2)
	r.Headers = r.Headers[:0]
	for range n {
		r.Headers = append(r.Headers, Header{Name: d.bytes(), Value: d.bytes()})
	}
	r.Body = d.bytes()
	return d.done()
}

// DecodeResponse decodes a response payload into r, reusing its Segments.
func DecodeResponse(payload []byte, r *Response) error {
	d := decoder{b: payload}
	r.ID = d.uvarint()
	status := d.uvarint()
	if status > 999 || !BodyStatus(int(status)) {
		d.bad = true
	}
	r.Status = int(status)
	r.Flags = d.uvarint()
	r.ContentType = d.bytes()
	if !ValidFieldValue(r.ContentType) {
		d.bad = true // it would split or corrupt the response header
	}
	r.Segments = d.segments(r.Segments[:0])
	r.Body = d.bytes()
	if len(r.Segments) > 0 && len(r.Body) > 0 || r.Flags&^knownFlags != 0 || r.Flags != 0 && len(r.Segments) == 0 {
		d.bad = true // one body source only; flags known and about segments
	}
	return d.done()
}

// DecodeRelease decodes a release payload, appending its segments to dst.
func DecodeRelease(payload []byte, dst []Segment) ([]Segment, error) {
	d := decoder{b: payload}
	dst = d.segments(dst)
	return dst, d.done()
}

func (d *decoder) segments(dst []Segment) []Segment {
	n := d.count(MaxSegments, 2)
	for range n {
		s := Segment{Offset: d.uvarint(), Length: d.uvarint()}
		if s.Offset+s.Length < s.Offset {
			d.bad = true // wraps around
		}
		dst = append(dst, s)
	}
	return dst
}

// BodyStatus reports whether status is a final status whose response
// carries a body, the only kind a CGI program can answer: 200 to 599 but
// 204 and 304.
func BodyStatus(status int) bool {
	return status >= 200 && status <= 599 && status != 204 && status != 304
}

// ValidFieldValue reports whether v can be sent as an HTTP header field
// value: no control bytes but horizontal tab (RFC 9110, section 5.5), so
// no CR or LF that would end the field early and no NUL.
func ValidFieldValue(v []byte) bool {
	for _, c := range v {
		if c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}
