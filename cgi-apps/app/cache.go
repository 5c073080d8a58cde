package app

import "fmt"

// DefaultCacheBytes bounds the cached bodies of a program without a
// shared-memory pool; with one, the cache takes at most half the pool.
const DefaultCacheBytes = 8 << 20

// buffer is a response body the program keeps and hands out again and
// again, IO-Lite style: written once, immutable from then on. It lies in
// pool pages (off >= 0) or, without a pool, on the heap (off < 0). refs
// counts the responses in flight that reference it, plus one while the
// cache holds it; a pool buffer's pages are detached and freed only when
// refs reaches zero, so no response ever sees them rewritten.
type buffer struct {
	key        string
	b          []byte
	off        int
	refs       int
	cached     bool
	prev, next *buffer // least recently used order, most recent at the head
}

// cache holds the buffers by key and the pool buffers by offset (to
// match the server's release frames), in least recently used order.
type cache struct {
	pool       *Pool
	byKey      map[string]*buffer
	byOff      map[int]*buffer
	head, tail *buffer
	bytes, cap int
}

func newCache(pool *Pool) *cache {
	c := &cache{pool: pool, byKey: map[string]*buffer{}, byOff: map[int]*buffer{}, cap: DefaultCacheBytes}
	if pool != nil {
		c.cap = pool.Size() / 2
	}
	return c
}

// get returns the buffer cached under key with n bytes, referenced once
// more for a response, or nil.
func (c *cache) get(key string, n int) *buffer {
	b := c.byKey[key]
	if b == nil || len(b.b) != n {
		return nil
	}
	c.unlink(b)
	c.pushFront(b)
	if b.off >= 0 { // the server releases it: a heap body is copied into the pipe
		b.refs++
	}
	return b
}

// put makes a buffer of n bytes, fills it, caches it under key (in place
// of an older one) and returns it referenced for a response. It returns
// nil when the pool has no room even after evicting every cached buffer.
func (c *cache) put(key string, n int, fill func([]byte)) (*buffer, error) {
	if old := c.byKey[key]; old != nil {
		if err := c.evict(old); err != nil {
			return nil, err
		}
	}
	if n > c.cap {
		return nil, nil // never cached: the response goes out on its own
	}
	for c.bytes+n > c.cap && c.tail != nil {
		if err := c.evict(c.tail); err != nil {
			return nil, err
		}
	}
	b := &buffer{key: key, off: -1, refs: 1, cached: true}
	if c.pool == nil {
		b.b = make([]byte, n)
	} else {
		b.refs++ // the response's, until the server releases it
		off, err := c.alloc(n)
		if err != nil || off < 0 {
			return nil, err
		}
		b.off, b.b = off, c.pool.Bytes(off, n)
		c.byOff[off] = b
	}
	fill(b.b)
	c.byKey[key] = b
	c.bytes += n
	c.pushFront(b)
	return b, nil
}

// alloc finds n bytes of the pool, evicting cached buffers while it has
// no room; -1 when even that is not enough.
func (c *cache) alloc(n int) (int, error) {
	for {
		if off, ok := c.pool.Alloc(n); ok {
			return off, nil
		}
		if c.tail == nil {
			return -1, nil
		}
		if err := c.evict(c.tail); err != nil {
			return -1, err
		}
	}
}

// evict takes b out of the cache; its pages go once no response holds it.
func (c *cache) evict(b *buffer) error {
	c.unlink(b)
	delete(c.byKey, b.key)
	b.cached = false
	c.bytes -= len(b.b)
	return c.unref(b)
}

// unref drops one reference on b and frees it with the last one.
func (c *cache) unref(b *buffer) error {
	if b.refs--; b.refs > 0 || b.off < 0 {
		return nil
	}
	delete(c.byOff, b.off)
	// The server may have sent the pages by reference: a socket may
	// still hold them. Detached, they stay as they are for it, and the
	// range gets fresh pages when it is next written.
	if err := c.pool.Detach(b.off, len(b.b)); err != nil {
		return err
	}
	if !c.pool.Free(b.off, len(b.b)) {
		return fmt.Errorf("app: free of cached buffer at %d: not allocated", b.off)
	}
	return nil
}

// release handles the server's release of a pool range: one reference
// less on a cached buffer, or the end of a response's own buffer. It
// reports false for a range that is neither.
func (c *cache) release(off, n int) (bool, error) {
	if b := c.byOff[off]; b != nil {
		if len(b.b) != n {
			return false, nil
		}
		return true, c.unref(b)
	}
	return c.pool.Free(off, n), nil
}

func (c *cache) unlink(b *buffer) {
	if b.prev != nil {
		b.prev.next = b.next
	} else if c.head == b {
		c.head = b.next
	}
	if b.next != nil {
		b.next.prev = b.prev
	} else if c.tail == b {
		c.tail = b.prev
	}
	b.prev, b.next = nil, nil
}

func (c *cache) pushFront(b *buffer) {
	b.next = c.head
	if c.head != nil {
		c.head.prev = b
	}
	c.head = b
	if c.tail == nil {
		c.tail = b
	}
}
