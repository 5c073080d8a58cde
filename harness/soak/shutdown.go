package soak

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"flashbench/cgi-apps/content"
)

// Shutdown is how a server ended: SIGTERM with requests in flight, which
// must complete, and an exit status of 0.
type Shutdown struct {
	InFlight  int `json:"in_flight"`
	Completed int `json:"in_flight_completed"`
	// Downloads says how each request in flight ended.
	Downloads []string `json:"in_flight_downloads"`
	// ExitS is the time from SIGTERM to the exit, ExitStatus the exit's
	// status; both omitted when the server did not exit (it was not
	// running, or was killed for outliving the shutdown timeout).
	ExitS      *float64 `json:"exit_s,omitempty"`
	ExitStatus *int     `json:"exit_status,omitempty"`
	// Outlived counts the processes of the server's group still alive
	// after it exited.
	Outlived int    `json:"outlived_processes"`
	Error    string `json:"error,omitempty"`
}

// exit says how the server exited: "exit status 0 after 0.24s", or that
// it did not.
func (sh *Shutdown) exit() string {
	if sh.ExitStatus == nil || sh.ExitS == nil {
		return "no exit"
	}
	return fmt.Sprintf("exit status %d after %.2fs", *sh.ExitStatus, *sh.ExitS)
}

// shutdownCGISize is the size of the CGI response in flight at SIGTERM.
const shutdownCGISize = 2 << 20

// shutdownAll shuts every server down gracefully, each recorded as a
// fault of kind graceful-shutdown. An interrupted run skips it: its
// servers are stopped by the cleanup.
func (r *run) shutdownAll(ctx context.Context) {
	if ctx.Err() != nil {
		return
	}
	r.eachArch(func(a *archRun) {
		f := &Fault{Kind: FaultShutdown, Arch: a.spec.name, start: time.Now()}
		f.AtS = r.since(f.start)
		a.shutdown = r.gracefulShutdown(ctx, a)
		f.end = time.Now()
		f.DurationS = f.end.Sub(f.start).Seconds()
		sh := a.shutdown
		f.TargetPID = a.srv.pid
		f.Outcome = fmt.Sprintf("%d of %d requests in flight completed; %s", sh.Completed, sh.InFlight, sh.exit())
		if sh.Error != "" {
			f.Outcome += "; " + sh.Error
		}
		r.mu.Lock()
		r.faults = append(r.faults, f)
		r.mu.Unlock()
		r.logf("%6.1fs %-17s %-9s %s", f.AtS, f.Kind, f.Arch, f.Outcome)
	})
}

// inflight is a download started before SIGTERM.
type inflight struct {
	path string
	c    *net.TCPConn
	resp *http.Response
	want []byte
	got  []byte
	// end says how it ended; ok that it got its whole, right body.
	end string
	ok  bool
}

// gracefulShutdown starts a static and a CGI download, reads part of
// each, sends SIGTERM, reads the rest, and waits for the exit.
func (r *run) gracefulShutdown(ctx context.Context, a *archRun) *Shutdown {
	sh := &Shutdown{Downloads: []string{}}
	if a.srv.exited() {
		sh.Error = "the server was not running"
		return sh
	}
	e := &faultEnv{r: r, a: a, rng: rand.New(rand.NewPCG(r.o.Seed, 0x5d))}
	urlPath, file := e.scratchPath("shutdown")
	orig := pattern(scratchSize, e.rng.Uint64())
	defer os.Remove(file)
	var dls []*inflight
	if err := writeAtomic(file, orig); err != nil {
		sh.Error = err.Error()
	}
	for _, d := range []struct {
		path string
		want []byte
	}{{urlPath, orig}, {"/cgi-bin/dyn?size=" + strconv.Itoa(shutdownCGISize), content.Dyn(shutdownCGISize)}} {
		c, resp, err := startDownload(ctx, a.srv.addr, d.path, 32<<10)
		if err != nil {
			sh.Error = fmt.Sprintf("start %s: %v", d.path, err)
			continue
		}
		dl := &inflight{path: d.path, c: c, resp: resp, want: d.want, got: make([]byte, 64<<10)}
		n, _ := io.ReadFull(resp.Body, dl.got)
		dl.got = dl.got[:n]
		dls = append(dls, dl)
	}
	sh.InFlight = len(dls)
	term := time.Now()
	a.srv.terminate()
	finishDownloads(dls)
	for _, dl := range dls {
		if dl.ok {
			sh.Completed++
		}
		sh.Downloads = append(sh.Downloads, dl.path+": "+dl.end)
	}
	r.awaitExit(a, sh, term)
	return sh
}

// finishDownloads reads every download to its end and checks its body.
func finishDownloads(dls []*inflight) {
	var wg sync.WaitGroup
	for _, dl := range dls {
		wg.Go(func() {
			defer dl.c.Close()
			dl.c.SetReadDeadline(time.Now().Add(ioTimeout + shutdownTimeout))
			rest, err := io.ReadAll(dl.resp.Body)
			dl.got = append(dl.got, rest...)
			dl.ok = err == nil && bytes.Equal(dl.got, dl.want)
			dl.end = fmt.Sprintf("%d of %d bytes, then %s", len(dl.got), len(dl.want), endOf(errOrEOF(err)))
			if ok, at := isPrefix(dl.got, dl.want); !ok {
				dl.end += fmt.Sprintf(", departing from the body at byte %d", at)
			}
		})
	}
	wg.Wait()
}

// awaitExit waits for a's server to exit after SIGTERM, counts what of
// its process group outlived it, and kills that.
func (r *run) awaitExit(a *archRun, sh *Shutdown, term time.Time) {
	select {
	case <-a.srv.done:
	case <-time.After(shutdownTimeout + 10*time.Second):
		sh.Error = fmt.Sprintf("still running %v after SIGTERM, killed", time.Since(term).Round(time.Second))
		a.srv.kill()
		return
	}
	sh.ExitS, sh.ExitStatus = new(a.srv.exitAt.Sub(term).Seconds()), new(a.srv.exitStatus())
	// Pdeathsig and closed pipes end the children a moment after the
	// server: give them that moment.
	for start := time.Now(); time.Since(start) < 2*time.Second; time.Sleep(100 * time.Millisecond) {
		if sh.Outlived = groupAlive(a.srv.pid); sh.Outlived == 0 {
			break
		}
	}
	a.srv.kill()
}

// groupAlive counts the live processes of process group pgrp.
func groupAlive(pgrp int) int {
	all, err := listProcs()
	if err != nil {
		return 0
	}
	n := 0
	for _, p := range all {
		if p.pgrp == pgrp && p.state != 'Z' {
			n++
		}
	}
	return n
}
