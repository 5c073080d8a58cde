package httpcore

import (
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// chunkKey names one chunk of one version of a file.
type chunkKey struct {
	id    fileID
	index int64
}

// mmapCache keeps mapped chunks, bounded by mapped bytes with LRU
// replacement. It holds one reference on every cached chunk; an evicted
// chunk stays mapped until the last Plan sending it is released, so the
// bytes a sender is writing never disappear under it.
type mmapCache struct {
	mu    sync.Mutex
	max   int64
	bytes int64
	m     map[chunkKey]*Chunk
	lru   lruList[Chunk, *Chunk]
}

func (ch *Chunk) lk() *links[Chunk] { return &ch.links }

func newMmapCache(max int64) *mmapCache {
	return &mmapCache{max: max, m: make(map[chunkKey]*Chunk)}
}

// get returns the cached chunk for key with a reference taken, or nil.
func (mc *mmapCache) get(key chunkKey) *Chunk {
	mc.mu.Lock()
	ch := mc.m[key]
	if ch != nil {
		mc.lru.moveFront(ch)
		ch.acquire()
	}
	mc.mu.Unlock()
	return ch
}

// put caches ch, which carries the caller's reference, and returns the
// chunk the caller should use: ch, or one another goroutine cached first
// (ch is then unmapped). Chunks beyond the byte bound are evicted from the
// tail; a chunk larger than the whole bound is not cached.
func (mc *mmapCache) put(ch *Chunk) *Chunk {
	size := int64(len(ch.mapped))
	if size > mc.max {
		return ch
	}
	var evicted []*Chunk
	var evictBuf [4]*Chunk
	mc.mu.Lock()
	if old := mc.m[ch.key]; old != nil {
		mc.lru.moveFront(old)
		old.acquire()
		mc.mu.Unlock()
		ch.release()
		return old
	}
	evicted = evictBuf[:0]
	for mc.bytes+size > mc.max && mc.lru.tail != nil {
		old := mc.lru.tail
		mc.lru.unlink(old)
		delete(mc.m, old.key)
		old.cached = false
		mc.bytes -= int64(len(old.mapped))
		evicted = append(evicted, old)
	}
	ch.acquire() // the cache's reference
	ch.cached = true
	mc.m[ch.key] = ch
	mc.lru.pushFront(ch)
	mc.bytes += size
	mc.mu.Unlock()
	for _, old := range evicted {
		old.release()
	}
	return ch
}

// clear drops the cache's reference on every chunk.
func (mc *mmapCache) clear() {
	mc.mu.Lock()
	m := mc.m
	mc.m = make(map[chunkKey]*Chunk)
	mc.lru = lruList[Chunk, *Chunk]{}
	mc.bytes = 0
	mc.mu.Unlock()
	for _, ch := range m {
		ch.cached = false
		ch.release()
	}
}

// mapChunk maps chunk index of f with one reference for the caller.
func (c *Core) mapChunk(f *File, index int64) (*Chunk, error) {
	off := index * c.cfg.ChunkSize
	n := min(c.cfg.ChunkSize, f.id.size-off)
	b, err := unix.Mmap(f.fd, off, int(n), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, os.NewSyscallError("mmap", err)
	}
	ch := &Chunk{mapped: b, n: int(n), key: chunkKey{id: f.id, index: index}, mappedBytes: &c.mappedBytes}
	ch.refs.Store(1)
	c.mappedBytes.Add(int64(len(b)))
	return ch, nil
}

// chunk returns chunk index of f with a reference for the caller, from
// the cache when it is on.
func (c *Core) chunk(f *File, index int64) (*Chunk, error) {
	if c.chunks != nil {
		if ch := c.chunks.get(chunkKey{id: f.id, index: index}); ch != nil {
			c.mmapHits.Add(1)
			return ch, nil
		}
	}
	c.mmapMisses.Add(1)
	ch, err := c.mapChunk(f, index)
	if err != nil || c.chunks == nil {
		return ch, err
	}
	return c.chunks.put(ch), nil
}

// unmap removes the mapping once nothing references the chunk.
func (ch *Chunk) unmap() {
	n := int64(len(ch.mapped))
	if err := unix.Munmap(ch.mapped); err != nil {
		panic("httpcore: munmap: " + err.Error())
	}
	ch.mapped = nil
	ch.mappedBytes.Add(-n)
}
