package httpcore

import (
	"errors"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"flashbench/internal/mincore"
)

// noCachestat is set once cachestat(2) (Linux 6.5) turns out to be missing,
// so later tests go straight to the mincore fallback.
var noCachestat atomic.Bool

// Resident reports whether every page of the file range [off, off+n) is in
// the page cache, so that sending it with sendfile cannot block on disk.
// It is the residency test of a file body planned as a file range, as
// Chunk.Resident is for mapped bodies: cachestat(2) where the kernel has
// it, otherwise mincore on a short-lived mapping of the range. An error
// (a file truncated under the range, say) reports false: the caller then
// lets a helper page the range in, which is always safe.
func (f *File) Resident(off, n int64) bool {
	if n <= 0 {
		return true
	}
	if !noCachestat.Load() {
		r := unix.CachestatRange{Off: uint64(off), Len: uint64(n)}
		var st unix.Cachestat_t
		err := unix.Cachestat(uint(f.fd), &r, &st, 0)
		if err == nil {
			return int64(st.Cache) >= pagesIn(off, n)
		}
		if !errors.Is(err, unix.ENOSYS) {
			return false
		}
		noCachestat.Store(true)
	}
	return f.residentMincore(off, n)
}

// ResidentAt is Resident with a memory: a range found resident at or
// after now-memo is taken as still resident without a system call. It
// remembers only whole-file ranges (the usual body); others are tested
// every time. now is monotonic nanoseconds on one clock for every caller
// of f (an event loop's clock).
func (f *File) ResidentAt(off, n, now int64, memo time.Duration) bool {
	whole := off == 0 && n == f.id.size
	if whole && f.resident.trusted(now) {
		return true
	}
	ok := f.Resident(off, n)
	if ok && whole {
		f.resident.remember(now, memo)
	}
	return ok
}

// residentMemo remembers until when a positive residency test is trusted.
// A page found resident and then sent was just referenced, so the page
// cache's LRU is least likely to evict it of all pages; a miss within the
// memory makes the sender fault the page in, as a page evicted between the
// test and the send would anyway.
type residentMemo struct{ until atomic.Int64 }

func (m *residentMemo) trusted(now int64) bool { return now < m.until.Load() }

func (m *residentMemo) remember(now int64, memo time.Duration) {
	m.until.Store(now + int64(memo))
}

// residentMincore maps [off, off+n) for as long as mincore takes.
func (f *File) residentMincore(off, n int64) bool {
	start := off &^ int64(pageSize-1)
	length := int(off + n - start)
	b, err := unix.Mmap(f.fd, start, length, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return false
	}
	defer unix.Munmap(b)
	vec := make([]byte, (length+pageSize-1)/pageSize)
	if mincore.Pages(b, vec) != nil {
		return false
	}
	for _, v := range vec {
		if v&1 == 0 {
			return false
		}
	}
	return true
}

// pagesIn is the number of pages the range [off, off+n) touches.
func pagesIn(off, n int64) int64 {
	page := int64(pageSize)
	return (off+n+page-1)/page - off/page
}

// ResidencyMemo is how long data found resident is trusted to stay so
// without testing it again. Flash tests residency before every send; on a
// cached workload that is one mincore or cachestat call per response,
// which SPED does not make. Trusting a positive test for a few
// milliseconds leaves a hot file one test per period, while data that the
// page cache evicts is still found cold within the period.
const ResidencyMemo = 10 * time.Millisecond

// ColdRange returns the byte range of p's body that is not all in memory,
// or a zero length when it is (or p has no file body: HEAD, 304, errors):
// what an architecture that must not block on disk reads in before it
// sends. A mapped body is tested chunk by chunk (chunkSize is the core's
// Config.ChunkSize), a file range (Flash-Lite's sendfile path) as a
// whole; a positive test is trusted for memo (File.ResidentAt).
func (p *Plan) ColdRange(chunkSize, now int64, memo time.Duration) (off, n int64) {
	switch p.Kind {
	case BodyFile:
		if p.File.ResidentAt(p.Offset, p.Length, now, memo) {
			return 0, 0
		}
		return p.Offset, p.Length
	case BodyMapped:
	default:
		return 0, 0
	}
	first, last := -1, -1
	for i, ch := range p.Chunks {
		if !ch.ResidentAt(now, memo) {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 {
		return 0, 0
	}
	off = int64(first) * chunkSize
	end := int64(last)*chunkSize + int64(len(p.Chunks[last].Bytes()))
	return off, end - off
}
