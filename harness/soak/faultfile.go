package soak

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"time"
)

// File faults: a scratch file of scratchSize is truncated to
// truncatedSize, replaced by a file of half its size, or deleted while a
// slow client downloads it.
const (
	scratchSize   = 4 << 20
	truncatedSize = 1 << 20
	// staleFor bounds how long new requests may still get the file as it
	// was: the caches revalidate a translation once it is a second old.
	staleFor = 4 * time.Second
)

// pattern returns n bytes of seeded pseudo-random content.
func pattern(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 0xf11e))
	b := make([]byte, n+8)
	for i := 0; i < n; i += 8 {
		binary.LittleEndian.PutUint64(b[i:], r.Uint64())
	}
	return b[:n]
}

// writeAtomic makes path hold data without a reader ever seeing a part.
func writeAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// injectFileFault changes a scratch file under a download (f.Kind says
// how): the body must be a prefix of the original, and new requests
// must soon get the file as it is now.
func injectFileFault(ctx context.Context, e *faultEnv, f *Fault) {
	urlPath, file := e.scratchPath(f.Kind)
	orig := pattern(scratchSize, e.rng.Uint64())
	if err := writeAtomic(file, orig); err != nil {
		f.Outcome = err.Error()
		return
	}
	defer os.Remove(file)
	c, resp, err := startDownload(ctx, e.a.srv.addr, urlPath, 32<<10)
	if err != nil {
		f.Outcome = "download: " + err.Error()
		return
	}
	defer c.Close()
	got := make([]byte, 0, scratchSize)
	buf := make([]byte, 4<<10)
	for len(got) < 256<<10 && sleep(ctx, time.Millisecond) {
		n, err := resp.Body.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			break
		}
	}
	now, err := applyFileFault(f.Kind, file, orig, e.rng.Uint64())
	if err != nil {
		f.Outcome = err.Error()
		return
	}
	c.SetReadDeadline(time.Now().Add(ioTimeout))
	rest, err := io.ReadAll(resp.Body)
	got = append(got, rest...)
	f.Outcome = fmt.Sprintf("%d of %d bytes, then %s", len(got), scratchSize, endOf(errOrEOF(err)))
	if ok, at := isPrefix(got, orig); !ok {
		f.Finding = fmt.Sprintf("%s: body departs from the original at byte %d: %s", f.Kind, at, describe(got[at:]))
		return
	}
	if err := awaitCurrent(ctx, e.a.srv.addr, urlPath, now); err != nil {
		f.Finding = fmt.Sprintf("%s: %v after the change: %v", f.Kind, staleFor, err)
	}
}

// errOrEOF turns a clean end of body into io.EOF.
func errOrEOF(err error) error {
	if err == nil {
		return io.EOF
	}
	return err
}

// applyFileFault truncates, replaces or deletes file, which holds orig,
// and returns what it holds now (nil: gone).
func applyFileFault(kind, file string, orig []byte, seed uint64) ([]byte, error) {
	switch kind {
	case FaultTruncate:
		if err := os.Truncate(file, truncatedSize); err != nil {
			return nil, err
		}
		return orig[:truncatedSize], nil
	case FaultReplace:
		repl := pattern(scratchSize/2, seed)
		return repl, writeAtomic(file, repl)
	case FaultDelete:
		return nil, os.Remove(file)
	}
	return nil, errors.New("unknown file fault " + kind)
}

// awaitCurrent waits until a new request for urlPath gets want (nil:
// 404).
func awaitCurrent(ctx context.Context, addr, urlPath string, want []byte) error {
	var err error
	for start := time.Now(); time.Since(start) < staleFor; {
		status, body, ferr := fetch(ctx, addr, urlPath)
		switch {
		case ferr != nil:
			err = ferr
		case want == nil && status == http.StatusNotFound:
			return nil
		case want == nil:
			err = fmt.Errorf("got status %d, want 404", status)
		case status == http.StatusOK && bytes.Equal(body, want):
			return nil
		default:
			err = fmt.Errorf("got status %d with %d bytes, want the %d bytes of the file now", status, len(body), len(want))
		}
		if !sleep(ctx, 250*time.Millisecond) {
			return nil
		}
	}
	return err
}
