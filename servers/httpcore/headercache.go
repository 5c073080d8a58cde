package httpcore

import "sync"

// headerCache keeps the complete response header of a file version and a
// connection variant, Date included, bounded by entries with LRU
// replacement. A header handed out is never written again: when its Date
// second has passed, the entry gets a NEW slice, as IO-Lite's immutable
// buffers, because a sender may still be writing the old one.
type headerCache struct {
	mu  sync.Mutex
	max int
	m   map[headerKey]*headerEntry
	lru lruList[headerEntry, *headerEntry]
}

// headerKey: GET and HEAD of a 200 share the header; keep-alive and close
// differ in the Connection field.
type headerKey struct {
	id    fileID
	close bool
}

type headerEntry struct {
	key headerKey
	hdr []byte
	sec int64 // the Date second inside hdr
	links[headerEntry]
}

func newHeaderCache(max int) *headerCache {
	return &headerCache{max: max, m: make(map[headerKey]*headerEntry, min(max, 1024))}
}

// get returns the cached header for key and whether one was found;
// a header from another second is rebuilt by build into a new slice.
func (hc *headerCache) get(key headerKey, sec int64, build func() []byte) ([]byte, bool) {
	hc.mu.Lock()
	e := hc.m[key]
	if e == nil {
		hc.mu.Unlock()
		return nil, false
	}
	hc.lru.moveFront(e)
	if e.sec != sec {
		e.hdr, e.sec = build(), sec
	}
	hdr := e.hdr
	hc.mu.Unlock()
	return hdr, true
}

// put caches hdr, built in second sec, for key.
func (hc *headerCache) put(key headerKey, sec int64, hdr []byte) {
	hc.mu.Lock()
	defer hc.mu.Unlock()
	if e := hc.m[key]; e != nil {
		e.hdr, e.sec = hdr, sec
		hc.lru.moveFront(e)
		return
	}
	e := &headerEntry{key: key, hdr: hdr, sec: sec}
	hc.m[key] = e
	hc.lru.pushFront(e)
	if len(hc.m) > hc.max {
		old := hc.lru.tail
		hc.lru.unlink(old)
		delete(hc.m, old.key)
	}
}

func (hc *headerCache) clear() {
	hc.mu.Lock()
	hc.m = make(map[headerKey]*headerEntry)
	hc.lru = lruList[headerEntry, *headerEntry]{}
	hc.mu.Unlock()
}

func (e *headerEntry) lk() *links[headerEntry] { return &e.links }
