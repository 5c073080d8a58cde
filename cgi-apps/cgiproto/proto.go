// Package cgiproto is the wire protocol between a flashbench server and its
// persistent CGI processes: length-prefixed frames over a pair of pipes, a
// request frame in and a response frame out, FastCGI-like in that one
// process serves many requests.
//
// A frame is a 4-byte little-endian payload length, one kind byte, and the
// payload. Frames may follow each other without waiting: a server may
// send a process several requests at once, and a process answers them in
// order, several responses in one write. Integers in a payload are unsigned varints; byte strings are a
// varint length and the bytes. A response carries its body either inline
// (the pipe path: the server reads, that is copies, every byte) or as
// segments of the shared-memory pool the server gave the process (the
// IO-Lite path: only (offset, length) crosses the pipe). Release frames go
// the other way, from server to process: they hand pool segments back once
// the server no longer needs their pages.
//
// Decoding never panics and bounds every allocation by the input length,
// so a broken or hostile CGI process cannot crash the server.
package cgiproto

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Kind is the type of a frame.
type Kind uint8

// Frame kinds.
const (
	KindRequest  Kind = 1 // server to process: one request
	KindResponse Kind = 2 // process to server: the response to a request
	KindRelease  Kind = 3 // server to process: pool segments free again
)

// HeaderSize is the fixed part of a frame: length and kind.
const HeaderSize = 5

// MaxPayload bounds a frame's payload; a longer length is an error, so a
// corrupt stream cannot make a reader allocate without limit.
const MaxPayload = 64 << 20

// Limits on counts inside a payload, checked before any allocation.
const (
	MaxHeaders  = 256
	MaxSegments = 1024
)

// Errors of the decoder. ErrShort means more input is needed.
var (
	ErrShort   = errors.New("cgiproto: short frame")
	ErrTooLong = errors.New("cgiproto: frame too long")
	ErrKind    = errors.New("cgiproto: unknown frame kind")
	ErrCorrupt = errors.New("cgiproto: corrupt payload")
)

// Header is one request header field passed to the program.
type Header struct {
	Name, Value []byte
}

// Request is what the server sends for one HTTP request. Decoded slices
// alias the decoded buffer.
type Request struct {
	ID      uint64
	Method  []byte
	Path    []byte
	Query   []byte
	Headers []Header
	Body    []byte
}

// Segment is a range of the shared-memory pool.
type Segment struct {
	Offset, Length uint64
}

// Response is what a program sends back. The body is Body, or, when
// Segments is not empty, the concatenation of those pool ranges.
type Response struct {
	ID          uint64
	Status      int
	Flags       uint64 // FlagZeroCopy, with Segments only
	ContentType []byte
	Body        []byte
	Segments    []Segment
}

// FlagZeroCopy marks segments the program keeps and hands out again (a
// cached, immutable body): it never writes their pages in place, it
// detaches them from the pool first (punches a hole) once no response
// references them. So the server may send them by reference (sendfile
// from the pool), leaving the kernel to hold the pages for as long as it
// needs, even after the server released them. Segments without the flag
// are reused in place after their release: the server must have copied
// them (writev) by then.
const FlagZeroCopy uint64 = 1

// knownFlags are the flag bits a decoder accepts.
const knownFlags = FlagZeroCopy

// BodyLength is the length of the response body, inline or in segments.
func (r *Response) BodyLength() uint64 {
	if len(r.Segments) == 0 {
		return uint64(len(r.Body))
	}
	var n uint64
	for _, s := range r.Segments {
		n += s.Length
	}
	return n
}

// Next splits the first frame off b: its kind, its payload (aliasing b)
// and the bytes it took. It returns ErrShort when b holds no whole frame.
func Next(b []byte) (kind Kind, payload []byte, n int, err error) {
	if len(b) < HeaderSize {
		return 0, nil, 0, ErrShort
	}
	size := binary.LittleEndian.Uint32(b)
	if size > MaxPayload {
		return 0, nil, 0, fmt.Errorf("%w: %d bytes", ErrTooLong, size)
	}
	kind = Kind(b[4])
	if kind < KindRequest || kind > KindRelease {
		return 0, nil, 0, fmt.Errorf("%w %d", ErrKind, kind)
	}
	end := HeaderSize + int(size)
	if len(b) < end {
		return kind, nil, 0, ErrShort
	}
	return kind, b[HeaderSize:end], end, nil
}

// begin appends a frame header whose length finish fills in.
func begin(dst []byte, k Kind) ([]byte, int) {
	at := len(dst)
	return append(dst, 0, 0, 0, 0, byte(k)), at
}

func finish(dst []byte, at int) []byte {
	binary.LittleEndian.PutUint32(dst[at:], uint32(len(dst)-at-HeaderSize))
	return dst
}

func appendBytes(dst, b []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(b)))
	return append(dst, b...)
}

// AppendRequest appends r as a request frame.
func AppendRequest(dst []byte, r *Request) []byte {
	dst, at := begin(dst, KindRequest)
	dst = binary.AppendUvarint(dst, r.ID)
	dst = appendBytes(dst, r.Method)
	dst = appendBytes(dst, r.Path)
	dst = appendBytes(dst, r.Query)
	dst = binary.AppendUvarint(dst, uint64(len(r.Headers)))
	for _, h := range r.Headers {
		dst = appendBytes(dst, h.Name)
		dst = appendBytes(dst, h.Value)
	}
	dst = appendBytes(dst, r.Body)
	return finish(dst, at)
}

// AppendResponse appends r as a response frame.
func AppendResponse(dst []byte, r *Response) []byte {
	dst = AppendResponseHead(dst, r, len(r.Body))
	return append(dst, r.Body...)
}

// AppendResponseHead appends every part of r's frame that comes before
// the body, for a body of bodyLen bytes that the caller sends right after
// (so a program can write the body in place, without copying it into the
// frame). The body is the last field of a response.
func AppendResponseHead(dst []byte, r *Response, bodyLen int) []byte {
	dst, at := begin(dst, KindResponse)
	dst = binary.AppendUvarint(dst, r.ID)
	dst = binary.AppendUvarint(dst, uint64(r.Status))
	dst = binary.AppendUvarint(dst, r.Flags)
	dst = appendBytes(dst, r.ContentType)
	dst = appendSegments(dst, r.Segments)
	dst = binary.AppendUvarint(dst, uint64(bodyLen))
	binary.LittleEndian.PutUint32(dst[at:], uint32(len(dst)-at-HeaderSize+bodyLen))
	return dst
}

// AppendRelease appends a release frame for segs.
func AppendRelease(dst []byte, segs []Segment) []byte {
	dst, at := begin(dst, KindRelease)
	dst = appendSegments(dst, segs)
	return finish(dst, at)
}

func appendSegments(dst []byte, segs []Segment) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(segs)))
	for _, s := range segs {
		dst = binary.AppendUvarint(dst, s.Offset)
		dst = binary.AppendUvarint(dst, s.Length)
	}
	return dst
}
