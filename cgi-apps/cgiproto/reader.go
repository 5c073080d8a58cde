package cgiproto

import (
	"fmt"
	"io"
)

// Reader reads frames from a blocking stream (a pipe).
type Reader struct {
	r          io.Reader
	buf        []byte
	start, end int
}

// NewReader returns a Reader on r.
func NewReader(r io.Reader) *Reader {
	return &Reader{r: r, buf: make([]byte, 64<<10)}
}

// Next returns the next frame. The payload is valid until the next call.
// A stream that ends between frames returns io.EOF; one that ends inside
// a frame returns io.ErrUnexpectedEOF.
func (r *Reader) Next() (Kind, []byte, error) {
	for {
		kind, payload, n, err := Next(r.buf[r.start:r.end])
		if err == nil {
			r.start += n
			return kind, payload, nil
		}
		if err != ErrShort {
			return 0, nil, err
		}
		if err := r.fill(); err != nil {
			return 0, nil, err
		}
	}
}

// Buffered reports whether a whole frame is already buffered, so that
// Next returns it without reading: a program answering several requests
// in a row flushes its responses only when none is left.
func (r *Reader) Buffered() bool {
	_, _, _, err := Next(r.buf[r.start:r.end])
	return err != ErrShort
}

// fill reads more input, making room first.
func (r *Reader) fill() error {
	if r.start > 0 {
		r.end = copy(r.buf, r.buf[r.start:r.end])
		r.start = 0
	}
	if need := r.need(); need > len(r.buf) {
		nb := make([]byte, need)
		copy(nb, r.buf[:r.end])
		r.buf = nb
	} else if r.end == len(r.buf) {
		nb := make([]byte, 2*len(r.buf))
		copy(nb, r.buf[:r.end])
		r.buf = nb
	}
	n, err := r.r.Read(r.buf[r.end:])
	r.end += n
	switch {
	case n > 0:
		return nil
	case err == io.EOF && r.end == 0:
		return io.EOF
	case err == io.EOF:
		return io.ErrUnexpectedEOF
	case err != nil:
		return fmt.Errorf("cgiproto: read: %w", err)
	}
	return nil
}

// need is the size of the frame at the front once its header is in.
func (r *Reader) need() int {
	if r.end < HeaderSize {
		return 0
	}
	b := r.buf[:r.end]
	return HeaderSize + int(uint32(b[0])|uint32(b[1])<<8|uint32(b[2])<<16|uint32(b[3])<<24)
}

// Detach gives the buffer holding the last payload to the caller, who may
// keep the payload's slices: the reader goes on in a new buffer.
func (r *Reader) Detach() {
	nb := make([]byte, max(64<<10, r.end-r.start))
	r.end = copy(nb, r.buf[r.start:r.end])
	r.start = 0
	r.buf = nb
}
