package evloop

import (
	"slices"

	"golang.org/x/sys/unix"

	"flashbench/servers/httpcore"
)

// leaseDrain is a set of files waiting until no socket references their
// pages (see leaseWatch).
type leaseDrain struct {
	files []*httpcore.File
	conns []drainConn
	blind bool  // the sockets cannot be seen: wait until the limit
	limit int64 // when the drain gives up on the connections left
}

// drainConn is one connection with data in flight at the snapshot.
type drainConn struct {
	key    sockKey
	peer   bool   // the client's end is in this namespace: wait until it has read
	target uint64 // bytes (tcp_info counting) to be read, or acknowledged
	known  bool   // target is known (the kernel has tcp_info byte counters)
	conn   *Conn  // the connection, if it is parked
	seen   uint64 // the progress counter (bytes read, or acknowledged) last seen
	stall  int64  // when the drain gives up on it unless it makes progress
}

// drain releases files once no socket can reference their pages; parked
// (by socket inode) are the connections stopped for them, closed as soon
// as their client has read what they sent.
func (w *leaseWatch) drain(files []*httpcore.File, parked map[uint64]*Conn) {
	now := w.l.now
	d := &leaseDrain{files: slices.Clone(files), limit: now + w.limit}
	if ours, peers, ok := w.sample(); ok {
		d.snapshot(ours, peers)
		for i := range d.conns {
			d.conns[i].seen = d.conns[i].counter(ours, peers)
			d.conns[i].stall = now + w.grace
			if ino := ours[d.conns[i].key].inode; ino != 0 && parked[uint64(ino)] != nil {
				d.conns[i].conn = parked[uint64(ino)]
				delete(parked, uint64(ino))
			}
		}
		for _, c := range parked {
			w.l.unpark(c, false) // all it sent is read already
		}
		if len(d.conns) == 0 {
			d.release()
			return
		}
	} else {
		d.blind, d.limit = true, now+w.grace
		for _, c := range parked {
			d.conns = append(d.conns, drainConn{conn: c})
		}
	}
	w.drains = append(w.drains, d)
	if !w.polling {
		w.polling = true
		w.l.After(leasePollInterval, w.poll)
	}
}

// poll releases the drains that are done, or past their limit, and
// waits for the others.
func (w *leaseWatch) poll() {
	w.polling = false
	if w.closed {
		return
	}
	ours, peers, ok := w.sample()
	keep := w.drains[:0]
	for _, d := range w.drains {
		if ok && !d.blind {
			w.progress(d, ours, peers)
		}
		switch {
		case !d.blind && len(d.conns) == 0:
		case w.l.now >= d.limit:
			for _, dc := range d.conns {
				w.giveUp(dc, d.blind, ours)
			}
		default:
			keep = append(keep, d)
			continue
		}
		d.release()
	}
	clear(w.drains[len(keep):])
	w.drains = keep
	if len(w.drains) > 0 {
		w.polling = true
		w.l.After(leasePollInterval, w.poll)
	}
}

// progress drops the connections of d that are done (closing the parked
// ones) and those whose client has made no progress for the grace time
// (aborting them, see giveUp).
func (w *leaseWatch) progress(d *leaseDrain, ours, peers map[sockKey]sockStat) {
	now := w.l.now
	d.conns = slices.DeleteFunc(d.conns, func(dc drainConn) bool {
		if dc.done(ours, peers) {
			w.l.unpark(dc.conn, false)
			return true
		}
		return now >= dc.stall && w.giveUp(dc, false, ours)
	})
	for i := range d.conns {
		if n := d.conns[i].counter(ours, peers); n > d.conns[i].seen {
			d.conns[i].seen, d.conns[i].stall = n, now+w.grace
		}
	}
}

// counter is what dc's client has done so far: the bytes it has read
// when its end is in this namespace, else the bytes it acknowledged.
func (dc drainConn) counter(ours, peers map[sockKey]sockStat) uint64 {
	if dc.peer {
		p := peers[dc.key]
		return p.received - uint64(p.rqueue)
	}
	return ours[dc.key].acked
}

// sample reads the server's ends of the listener's connections, then the
// clients' ends in this namespace, in that order (done relies on it).
func (w *leaseWatch) sample() (ours, peers map[sockKey]sockStat, ok bool) {
	if w.family == 0 {
		return nil, nil, false
	}
	if w.diag == nil {
		d, err := openSockDiag()
		if err != nil {
			return nil, nil, false
		}
		w.diag = d
	}
	ours, peers = map[sockKey]sockStat{}, map[sockKey]sockStat{}
	if w.diag.dump(w.family, w.port, false, func(k sockKey, s sockStat) { ours[k] = s }) != nil {
		return nil, nil, false
	}
	for _, fam := range []uint8{unix.AF_INET, unix.AF_INET6} {
		if w.diag.dump(fam, w.port, true, func(k sockKey, s sockStat) { peers[k] = s }) != nil {
			return nil, nil, false
		}
	}
	return ours, peers, true
}

// snapshot records the connections with data in flight: unacknowledged
// on the server's end, or unread on a client's end in this namespace.
func (d *leaseDrain) snapshot(ours, peers map[sockKey]sockStat) {
	for k, o := range ours {
		p, local := peers[k]
		if o.wqueue == 0 && (!local || p.unread() == 0) {
			continue
		}
		dc := drainConn{key: k, peer: local, known: o.info}
		if o.info { // all the server wrote, in the client's counting
			dc.target = o.acked + uint64(o.wqueue)
			if o.finSent() {
				dc.target--
			}
		}
		d.conns = append(d.conns, dc)
	}
	for k, p := range peers {
		if _, ok := ours[k]; ok || p.unread() == 0 {
			continue // the server's end is gone: all the client gets is in
		}
		dc := drainConn{key: k, peer: true, known: p.info, target: p.received}
		if p.info && p.finReceived() {
			dc.target--
		}
		d.conns = append(d.conns, dc)
	}
}

// done reports whether no byte written before the snapshot can still be
// referenced by dc's sockets. ours was sampled before peers: an empty
// send queue in ours means all of it had reached the client by then.
func (dc drainConn) done(ours, peers map[sockKey]sockStat) bool {
	o, oOK := ours[dc.key]
	if !dc.peer {
		return !oOK || o.wqueue == 0 || (dc.known && o.info && o.acked >= dc.target)
	}
	p, pOK := peers[dc.key]
	switch {
	case !pOK: // closed by the client: its receive queue went with it
		return true
	case dc.known && p.info && p.received-uint64(p.rqueue) >= dc.target:
		return true
	}
	return p.unread() == 0 && (!oOK || o.wqueue == 0)
}

// giveUp stops waiting for dc: if the server's end still holds data in
// its send queue it is aborted, so that the data is freed, not sent, once
// the files are released (a parked or open connection through its
// descriptor, a closed one with SOCK_DESTROY); a parked connection is
// closed either way. What the client's end holds stays where it is. It
// reports true.
func (w *leaseWatch) giveUp(dc drainConn, blind bool, ours map[sockKey]sockStat) bool {
	o, ok := ours[dc.key]
	queued := blind || ok && o.wqueue > 0
	switch {
	case dc.conn != nil:
		w.l.unpark(dc.conn, queued)
	case !queued:
	case o.inode == 0:
		w.diag.destroy(o)
	default:
		var st unix.Stat_t
		for fd, e := range w.l.fds {
			if c := e.conn; c != nil && c.fd == fd && !c.closed && unix.Fstat(fd, &st) == nil && st.Ino == uint64(o.inode) {
				w.l.abort(c)
				break
			}
		}
	}
	return true
}

// release drops the drain's references: the files close (and give their
// leases up) now, or on the release of the last Plan still holding them.
func (d *leaseDrain) release() {
	for _, f := range d.files {
		f.Release()
	}
	d.files = nil
}
