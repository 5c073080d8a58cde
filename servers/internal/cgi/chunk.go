package cgi

// rchunk is a buffer the loop reads response frames into. An inline body
// (the pipe path) is planned where it was read, without another copy, so
// a chunk is rewritten only once no plan aliases it: refs counts those
// plans, and live says it is still some process's read buffer.
type rchunk struct {
	b    []byte
	refs int
	live bool
}

// Read buffer sizes: over pipes one read takes a few responses of tens of
// kilobytes (a buffer stays alive until the last response read into it
// is sent, so a larger one would let slow clients pin more memory); with
// shared memory the frames are descriptors of a few bytes. Up to
// maxSpare free buffers are kept for reuse: a response read over pipes
// pins its buffer until its send completes, which on the ring comes a
// turn later, so that with tens of connections receiving large bodies
// tens of buffers are in use at once. Keeping fewer made the loop
// allocate (and clear, and collect) a fresh 256 KiB buffer for most
// responses of 200 KB.
const (
	chunkPipes  = 256 << 10
	chunkShared = 64 << 10
	maxSpare    = 64
)

// chunkSize is the size of the loop's read buffers.
func (m *Loop[L, C]) chunkSize() int {
	if m.opts.SharedMemory {
		return chunkShared
	}
	return chunkPipes
}

// newChunk returns a live read buffer of at least n bytes, a spare one
// when it is large enough.
func (m *Loop[L, C]) newChunk(n int) *rchunk {
	if k := len(m.spare); k > 0 && len(m.spare[k-1].b) >= n {
		ch := m.spare[k-1]
		m.spare[k-1] = nil
		m.spare = m.spare[:k-1]
		ch.live = true
		return ch
	}
	m.buffers.Add(1)
	return &rchunk{b: make([]byte, max(n, m.chunkSize())), live: true}
}

// unrefChunk drops a plan's reference on ch.
func (m *Loop[L, C]) unrefChunk(ch *rchunk) {
	if ch.refs--; ch.refs == 0 && !ch.live {
		m.putChunk(ch)
	}
}

// dropChunk ends ch's use as a read buffer.
func (m *Loop[L, C]) dropChunk(ch *rchunk) {
	ch.live = false
	if ch.refs == 0 {
		m.putChunk(ch)
	}
}

// putChunk keeps a free chunk of the standard size for reuse.
func (m *Loop[L, C]) putChunk(ch *rchunk) {
	if len(ch.b) == m.chunkSize() && len(m.spare) < maxSpare {
		m.spare = append(m.spare, ch)
	}
}

// makeRoom makes the read buffer able to take more input and, with need,
// hold a whole frame of need bytes: the unparsed bytes move to the front,
// or to a new buffer when plans still alias this one or it is too small.
func (pr *lproc[L, C]) makeRoom(need int) {
	m, old := pr.m, pr.rd
	rem := pr.rn - pr.rstart
	want := max(need, rem+1)
	if old != nil && old.refs == 0 && len(old.b) >= want {
		copy(old.b, old.b[pr.rstart:pr.rn])
		pr.rstart, pr.rn = 0, rem
		return
	}
	ch := m.newChunk(want)
	if old != nil {
		copy(ch.b, old.b[pr.rstart:pr.rn])
		m.dropChunk(old)
	}
	pr.rd, pr.rstart, pr.rn = ch, 0, rem
}
