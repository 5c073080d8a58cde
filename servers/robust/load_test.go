package robust_test

import (
	"sync"
	"testing"
	"time"

	"flashbench/servers/httpcore/conformance"
)

// prober is a well-behaved client fetching 500b.txt again and again while a
// hostile one works on the server: it proves other clients keep being
// served.
type prober struct {
	stop chan struct{}
	done chan struct{}
	mu   sync.Mutex
	ok   int
	fail int
	err  error
}

// startProber starts n well-behaved clients against addr.
func startProber(addr string, n int) *prober {
	p := &prober{stop: make(chan struct{}), done: make(chan struct{})}
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-p.stop:
					return
				case <-time.After(50 * time.Millisecond):
				}
				err := fetch(addr, "/500b.txt", conformance.File("500b.txt"))
				p.mu.Lock()
				if err == nil {
					p.ok++
				} else {
					p.fail++
					if p.err == nil {
						p.err = err
					}
				}
				p.mu.Unlock()
			}
		}()
	}
	go func() { wg.Wait(); close(p.done) }()
	return p
}

// finish stops the clients and fails unless every request they made was
// answered correctly, and at least one was made.
func (p *prober) finish(t *testing.T, what string) {
	t.Helper()
	close(p.stop)
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail > 0 || p.ok == 0 {
		t.Errorf("%s: well-behaved clients: got %d answered and %d failed (first: %v), want all answered",
			what, p.ok, p.fail, p.err)
	}
}
