package app

// Response is the handler's answer. Status defaults to 200 and
// ContentType to "text/html".
type Response struct {
	Status      int
	ContentType string

	s       *server
	body    []byte
	shm     bool // body lies in the pool at off
	off     int
	inFrame bool // body lies in s.frame after the head room
}

// Body returns n bytes for the handler to fill with the whole body: pool
// pages when the server gave the program a pool large enough (the
// server then sends them without copying), else a buffer whose bytes are
// written to the pipe. Call Body (or Write) once per response.
func (r *Response) Body(n int) []byte {
	s := r.s
	if s.pool != nil && n > 0 && Pages(n) <= len(s.pool.used) {
		if off, err := s.allocShared(n); err == nil {
			r.shm, r.off = true, off
			r.body = s.pool.Bytes(off, n)
			return r.body
		}
	}
	if cap(s.frame) < headRoom+n {
		s.frame = make([]byte, headRoom+n)
	}
	r.inFrame = true
	r.body = s.frame[headRoom : headRoom+n]
	return r.body
}

// Write sets the body to a copy of b.
func (r *Response) Write(b []byte) {
	copy(r.Body(len(b)), b)
}
