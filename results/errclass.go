package results

import (
	"fmt"
	"math"
)

// ErrorClass names one class of failed request; its string is the key in a
// document's errors object.
type ErrorClass string

// The error classes. The set is fixed for a schema version, and every
// document lists all of them, zero or not, so a class never silently vanishes.
const (
	ConnectRefused   ErrorClass = "connect_refused"
	ConnectTimeout   ErrorClass = "connect_timeout"
	Reset            ErrorClass = "reset"
	ReadError        ErrorClass = "read"
	WriteError       ErrorClass = "write"
	Timeout          ErrorClass = "timeout"
	BadStatus        ErrorClass = "bad_status"
	ShortBody        ErrorClass = "short_body"
	ChecksumMismatch ErrorClass = "checksum_mismatch"
	AddrExhausted    ErrorClass = "addr_exhausted"
)

// ErrorClasses returns every error class in document order.
func ErrorClasses() []ErrorClass {
	return []ErrorClass{
		ConnectRefused, ConnectTimeout, Reset, ReadError, WriteError,
		Timeout, BadStatus, ShortBody, ChecksumMismatch, AddrExhausted,
	}
}

// Errors counts failed requests by class. A fixed struct rather than a map,
// so that every class is always written and a misspelt class cannot compile.
type Errors struct {
	ConnectRefused   int64 `json:"connect_refused"`
	ConnectTimeout   int64 `json:"connect_timeout"`
	Reset            int64 `json:"reset"`
	Read             int64 `json:"read"`
	Write            int64 `json:"write"`
	Timeout          int64 `json:"timeout"`
	BadStatus        int64 `json:"bad_status"`
	ShortBody        int64 `json:"short_body"`
	ChecksumMismatch int64 `json:"checksum_mismatch"`
	AddrExhausted    int64 `json:"addr_exhausted"`
}

// NewErrors returns all classes at zero.
func NewErrors() Errors { return Errors{} }

// counter returns the field that counts class c, or nil for an unknown class.
func (e *Errors) counter(c ErrorClass) *int64 {
	switch c {
	case ConnectRefused:
		return &e.ConnectRefused
	case ConnectTimeout:
		return &e.ConnectTimeout
	case Reset:
		return &e.Reset
	case ReadError:
		return &e.Read
	case WriteError:
		return &e.Write
	case Timeout:
		return &e.Timeout
	case BadStatus:
		return &e.BadStatus
	case ShortBody:
		return &e.ShortBody
	case ChecksumMismatch:
		return &e.ChecksumMismatch
	case AddrExhausted:
		return &e.AddrExhausted
	}
	return nil
}

// Add adds n to class c's count.
func (e *Errors) Add(c ErrorClass, n int64) error {
	p := e.counter(c)
	if p == nil {
		return fmt.Errorf("results: add error count: unknown error class %q", c)
	}
	*p += n
	return nil
}

// Count returns class c's count, and false for an unknown class.
func (e Errors) Count(c ErrorClass) (int64, bool) {
	p := e.counter(c)
	if p == nil {
		return 0, false
	}
	return *p, true
}

// Merge adds every count of o to e, as when merging several clients' results.
func (e *Errors) Merge(o Errors) {
	for _, c := range ErrorClasses() {
		*e.counter(c) += *o.counter(c)
	}
}

// Dominant returns the class with the most failures, the first in document
// order on a tie, and "" when there are none.
func (e Errors) Dominant() ErrorClass {
	var best ErrorClass
	var most int64
	for _, c := range ErrorClasses() {
		if n := *e.counter(c); n > most {
			best, most = c, n
		}
	}
	return best
}

// Total returns the sum of all classes; it saturates at math.MaxInt64 rather
// than wrapping.
func (e Errors) Total() int64 {
	total, _ := e.sum()
	return total
}

// sum returns the sum of all classes and whether it fit in an int64.
func (e Errors) sum() (int64, bool) {
	var total int64
	for _, c := range ErrorClasses() {
		n := *e.counter(c)
		if n > 0 && total > math.MaxInt64-n {
			return math.MaxInt64, false
		}
		total += n
	}
	return total, true
}
