package httpcore

import "sync"

// pathCache maps cleaned request paths to open Files, bounded by entries
// with LRU replacement. It holds one reference on every cached File; an
// evicted File is closed once its last Plan releases it.
type pathCache struct {
	mu  sync.Mutex
	max int
	m   map[string]*pathEntry
	lru lruList[pathEntry, *pathEntry]
}

type pathEntry struct {
	key string
	f   *File
	links[pathEntry]
}

func newPathCache(max int) *pathCache {
	return &pathCache{max: max, m: make(map[string]*pathEntry, min(max, 1024))}
}

// get returns the File cached for key with a reference taken, or nil.
func (pc *pathCache) get(key []byte) *File {
	pc.mu.Lock()
	e := pc.m[string(key)]
	if e == nil {
		pc.mu.Unlock()
		return nil
	}
	pc.lru.moveFront(e)
	f := e.f
	f.acquire()
	pc.mu.Unlock()
	return f
}

// put caches f under key, replacing an older File for the same key and
// evicting the least recently used entry beyond the bound.
func (pc *pathCache) put(key []byte, f *File) {
	f.acquire()
	var drop *File
	pc.mu.Lock()
	if e := pc.m[string(key)]; e != nil {
		drop, e.f = e.f, f
		f.cacheKey = e.key
		pc.lru.moveFront(e)
	} else {
		e = &pathEntry{key: string(key), f: f}
		f.cacheKey = e.key
		pc.m[e.key] = e
		pc.lru.pushFront(e)
		if len(pc.m) > pc.max {
			old := pc.lru.tail
			pc.lru.unlink(old)
			delete(pc.m, old.key)
			drop = old.f
		}
	}
	pc.mu.Unlock()
	if drop != nil {
		drop.Release()
	}
}

// remove drops key's entry if it still holds f.
func (pc *pathCache) remove(key []byte, f *File) {
	pc.mu.Lock()
	pc.dropLocked(pc.m[string(key)], f)
}

// removeFile drops f's entry if it still holds f.
func (pc *pathCache) removeFile(f *File) {
	pc.mu.Lock()
	pc.dropLocked(pc.m[f.cacheKey], f)
}

// dropLocked drops e if it holds f, then unlocks pc and, if e went,
// releases the cache's reference to f outside the lock.
func (pc *pathCache) dropLocked(e *pathEntry, f *File) {
	if e == nil || e.f != f {
		pc.mu.Unlock()
		return
	}
	pc.lru.unlink(e)
	delete(pc.m, e.key)
	pc.mu.Unlock()
	f.Release()
}

// clear drops every entry.
func (pc *pathCache) clear() {
	pc.mu.Lock()
	m := pc.m
	pc.m = make(map[string]*pathEntry)
	pc.lru = lruList[pathEntry, *pathEntry]{}
	pc.mu.Unlock()
	for _, e := range m {
		e.f.Release()
	}
}

func (pc *pathCache) len() int {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	return len(pc.m)
}

func (e *pathEntry) lk() *links[pathEntry] { return &e.links }
