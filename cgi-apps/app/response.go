package app

// Response is the handler's answer. Status defaults to 200 and
// ContentType to "text/html". A handler gives the body once: with Body,
// Write or Cached.
type Response struct {
	Status      int
	ContentType string

	s    *server
	body []byte
	off  int     // the body lies in the pool at off (>= 0), the response's own pages
	buf  *buffer // the body is this cached buffer
}

// Body returns n bytes for the handler to fill with the whole body: pool
// pages when the server gave the program a pool with room for them (the
// server then sends them without reading them), else a buffer whose bytes
// are written to the pipe.
func (r *Response) Body(n int) []byte {
	s := r.s
	if s.pool != nil && n > 0 {
		off, err := s.cache.alloc(n)
		if err != nil {
			s.fail(err)
		} else if off >= 0 {
			r.off, r.body = off, s.pool.Bytes(off, n)
			return r.body
		}
	}
	r.body = s.out.alloc(n)
	return r.body
}

// Write sets the body to a copy of b.
func (r *Response) Write(b []byte) {
	copy(r.Body(len(b)), b)
}

// Cached answers with the n-byte body the program keeps under key,
// calling fill to write it only when it is not kept yet (or was evicted):
// key must name the body's bytes exactly, a pure function of it. The body
// is written once and then handed out again and again, never copied and
// never rewritten while a response references it (IO-Lite's immutable
// buffers): with a shared-memory pool the server sends the same pages
// for every response, by reference; over pipes it is written to the pipe
// from where it lies. A body too large for the cache is filled for this
// response alone.
func (r *Response) Cached(key string, n int, fill func([]byte)) {
	s := r.s
	if b := s.cache.get(key, n); b != nil {
		r.buf, r.body = b, b.b
		return
	}
	b, err := s.cache.put(key, n, fill)
	if err != nil {
		s.fail(err)
	}
	if b == nil {
		fill(r.Body(n))
		return
	}
	r.buf, r.body = b, b.b
}
