package deadline_test

import (
	"math/rand/v2"
	"testing"

	"flashbench/servers/internal/deadline"
)

type conn struct {
	id int
	at int64
	e  deadline.Entry[*conn]
}

// TestLists sets random deadlines on two lists, moves some between them
// and clears others, then checks Nearest against the earliest deadline
// left and that Due hands every entry left back once, each list in
// deadline order, and none before its deadline.
func TestLists(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	ls := deadline.NewLists[*conn](3)
	conns := make([]*conn, 200)
	set := func(c *conn, k int) {
		c.at = int64(r.IntN(1000))
		ls.Set(&c.e, k, c.at)
	}
	for i := range conns {
		conns[i] = &conn{id: i}
		conns[i].e.Owner = conns[i]
		set(conns[i], 1+r.IntN(2))
	}
	for _, c := range conns[:50] {
		ls.Clear(&c.e)
	}
	for _, c := range conns[50:100] {
		set(c, 2)
	}
	earliest := int64(1000)
	for _, c := range conns[50:] {
		earliest = min(earliest, c.at)
	}
	if got, ok := ls.Nearest(); !ok || got != earliest {
		t.Errorf("Nearest: got %d, %v; want %d, true", got, ok, earliest)
	}
	if e := ls.Due(1, -1); e != nil {
		t.Errorf("Due before every deadline: got conn %d, want none", e.Owner.id)
	}
	seen := map[int]bool{}
	for k := 1; k < 3; k++ {
		last := int64(-1)
		for e := ls.Due(k, 1000); e != nil; e = ls.Due(k, 1000) {
			c := e.Owner
			if c.at < last || seen[c.id] || e.List() != 0 {
				t.Errorf("list %d: conn %d at %d after %d (seen before: %v, on list %d); want deadline order, once, off the list", k, c.id, c.at, last, seen[c.id], e.List())
			}
			last, seen[c.id] = c.at, true
		}
	}
	if len(seen) != 150 {
		t.Errorf("Due handed back %d entries, want 150 (200 set, 50 cleared)", len(seen))
	}
	if _, ok := ls.Nearest(); ok {
		t.Errorf("Nearest once every entry was due: got one, want none")
	}
}

// TestTimers checks that timers run once each, earliest first, and only
// when due.
func TestTimers(t *testing.T) {
	var tm deadline.Timers
	var ran []int
	for _, at := range []int{30, 10, 20} {
		tm.After(int64(at), func() { ran = append(ran, at) })
	}
	if at, ok := tm.Nearest(); !ok || at != 10 {
		t.Errorf("Nearest: got %d, %v; want 10, true", at, ok)
	}
	tm.RunDue(20)
	tm.RunDue(25)
	if len(ran) != 2 || ran[0] != 10 || ran[1] != 20 {
		t.Errorf("after RunDue(20) and (25): ran %v, want [10 20]", ran)
	}
	tm.RunDue(30)
	if _, ok := tm.Nearest(); len(ran) != 3 || ok {
		t.Errorf("after RunDue(30): ran %v, a timer left %v; want [10 20 30], none", ran, ok)
	}
}
