package amped

import (
	"encoding/binary"
	"errors"
	"fmt"
	"syscall"
)

// Kind is what a helper job asks for.
type Kind uint8

// Job kinds. A resolve job brings a path's metadata into memory (the
// directory entries and inodes that translation reads) and, when its range
// is not empty, the start of the file's data too, so that a cold file costs
// one round trip to a helper, not two; a page-in job brings a byte range of
// a file into the page cache.
const (
	KindResolve Kind = 1
	KindPageIn  Kind = 2
)

// String returns the kind's name, for errors and counters.
func (k Kind) String() string {
	switch k {
	case KindResolve:
		return "resolve"
	case KindPageIn:
		return "page-in"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Wire sizes. A request is RequestHeaderSize bytes followed by at most
// MaxPath bytes of path; a reply is exactly ReplySize bytes. A helper has
// one job in flight and reads each request whole before replying, so the
// main process always writes a request into an empty pipe, whose 64 KiB
// take it in one write.
const (
	RequestHeaderSize = 8 + 1 + 8 + 8 + 2
	ReplySize         = 8 + 4
	MaxPath           = 16 << 10
)

// Request is one job sent to a helper. Integers are little-endian:
// id uint64, kind uint8, offset int64, length int64, path length uint16,
// then the path bytes.
type Request struct {
	ID   uint64
	Kind Kind
	// Offset and Length are the byte range to read into the page cache:
	// of the named file (page-in), or of the file the path resolves to
	// (resolve; a zero Length reads nothing). A range past the end of the
	// file is clamped to it.
	Offset int64
	Length int64
	// Path is the request path (resolve, still percent-encoded, starting
	// with "/") or the file's name beneath the root (page-in).
	Path string
}

// Reply is a helper's completion of a job: its id and the errno of the
// work, 0 on success. It carries no data: the main process finds what the
// helper did in the kernel's caches.
type Reply struct {
	ID    uint64
	Errno syscall.Errno
}

// Decoding errors. ErrShort means the buffer holds only the beginning of a
// message; ErrMalformed means the bytes can never become a valid one, and
// the stream carrying them cannot be trusted any more.
var (
	ErrShort     = errors.New("amped: short message")
	ErrMalformed = errors.New("amped: malformed message")
)

// AppendRequest appends the encoding of r to dst. It fails for a request
// that DecodeRequest would refuse.
func AppendRequest(dst []byte, r Request) ([]byte, error) {
	if err := r.validate(); err != nil {
		return dst, err
	}
	dst = binary.LittleEndian.AppendUint64(dst, r.ID)
	dst = append(dst, byte(r.Kind))
	dst = binary.LittleEndian.AppendUint64(dst, uint64(r.Offset))
	dst = binary.LittleEndian.AppendUint64(dst, uint64(r.Length))
	dst = binary.LittleEndian.AppendUint16(dst, uint16(len(r.Path)))
	return append(dst, r.Path...), nil
}

// DecodeRequest decodes the request at the start of b and returns it with
// the number of bytes it took. It never panics, whatever b holds.
func DecodeRequest(b []byte) (Request, int, error) {
	if len(b) < RequestHeaderSize {
		return Request{}, 0, ErrShort
	}
	r := Request{
		ID:     binary.LittleEndian.Uint64(b[0:]),
		Kind:   Kind(b[8]),
		Offset: int64(binary.LittleEndian.Uint64(b[9:])),
		Length: int64(binary.LittleEndian.Uint64(b[17:])),
	}
	n := int(binary.LittleEndian.Uint16(b[25:]))
	if n > MaxPath {
		return Request{}, 0, fmt.Errorf("%w: path of %d bytes", ErrMalformed, n)
	}
	if len(b) < RequestHeaderSize+n {
		return Request{}, 0, ErrShort
	}
	r.Path = string(b[RequestHeaderSize : RequestHeaderSize+n])
	if err := r.validate(); err != nil {
		return Request{}, 0, err
	}
	return r, RequestHeaderSize + n, nil
}

func (r Request) validate() error {
	switch {
	case r.Kind != KindResolve && r.Kind != KindPageIn:
		return fmt.Errorf("%w: unknown kind %d", ErrMalformed, uint8(r.Kind))
	case r.Offset < 0 || r.Length < 0 || r.Offset > maxInt64-r.Length:
		return fmt.Errorf("%w: range %d+%d", ErrMalformed, r.Offset, r.Length)
	case len(r.Path) == 0 || len(r.Path) > MaxPath:
		return fmt.Errorf("%w: path of %d bytes", ErrMalformed, len(r.Path))
	}
	return nil
}

const maxInt64 = 1<<63 - 1

// AppendReply appends the encoding of r to dst: id uint64 and errno uint32,
// little-endian.
func AppendReply(dst []byte, r Reply) []byte {
	dst = binary.LittleEndian.AppendUint64(dst, r.ID)
	return binary.LittleEndian.AppendUint32(dst, uint32(r.Errno))
}

// DecodeReply decodes the reply at the start of b and returns it with the
// number of bytes it took. It never panics, whatever b holds.
func DecodeReply(b []byte) (Reply, int, error) {
	if len(b) < ReplySize {
		return Reply{}, 0, ErrShort
	}
	r := Reply{
		ID:    binary.LittleEndian.Uint64(b[0:]),
		Errno: syscall.Errno(binary.LittleEndian.Uint32(b[8:])),
	}
	return r, ReplySize, nil
}
