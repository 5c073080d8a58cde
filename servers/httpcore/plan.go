package httpcore

// BodyKind says where a Plan's body comes from.
type BodyKind uint8

// Body sources. An architecture sends Plan.Header followed by the body.
const (
	BodyNone   BodyKind = iota // HEAD, 304, or an empty body
	BodyBytes                  // Plan.Bytes (error pages, small in-memory bodies)
	BodyMapped                 // Plan.Chunks: mapped file chunks, in order (Plan.File: the leased file)
	BodyFile                   // Plan.File from Plan.Offset for Plan.Length bytes (sendfile)
)

// Plan is the response to one request: what to send and whether to close
// the connection afterwards. Header and Bytes are immutable: a sender may
// hold them until the kernel no longer references them. A Plan holds
// references on mapped chunks and files until Release is called.
//
// With the header cache off, Header lives in the Plan's own scratch buffer,
// which the next Respond on the same Plan overwrites: a Plan is reused only
// once its previous response has been sent.
type Plan struct {
	Status int
	Header []byte // status line and header fields, ending in CRLF CRLF
	Kind   BodyKind
	Bytes  []byte
	Chunks []*Chunk
	File   *File
	Offset int64
	Length int64 // body length in bytes, whatever the Kind
	// Close asks the architecture to close the connection once this
	// response has been sent.
	Close bool

	scratch []byte // per-plan header buffer, reused when the header cache is off
}

// Release drops the Plan's references on chunks and files (an evicted
// chunk is unmapped here if this was its last user) and clears it for
// reuse. Releasing a cleared Plan does nothing.
func (p *Plan) Release() {
	for i, ch := range p.Chunks {
		ch.release()
		p.Chunks[i] = nil
	}
	if p.File != nil {
		p.File.Release()
	}
	*p = Plan{Chunks: p.Chunks[:0], scratch: p.scratch[:0]}
}
