package httpcore

import (
	"fmt"
	"os"
	"sync/atomic"
	"time"
)

// Core turns parsed requests into Plans for one document root. It is safe
// for concurrent use: the caches are guarded by short critical sections
// and the counters are atomics.
type Core struct {
	cfg     Config
	root    *os.Root
	now     func() time.Time // the clock; tests replace it
	date    dateCache
	paths   *pathCache   // nil when off
	headers *headerCache // nil when off
	chunks  *mmapCache   // nil when off
	leases  *leaseSet    // nil unless Config.Lease

	pathHits, pathMisses     atomic.Uint64
	headerHits, headerMisses atomic.Uint64
	mmapHits, mmapMisses     atomic.Uint64
	mappedBytes              atomic.Int64
	leaseBreaks              atomic.Uint64
	leaseBusy, leaseRefused  atomic.Uint64
}

// Stats are a Core's cache counters since New.
type Stats struct {
	PathHits, PathMisses     uint64
	HeaderHits, HeaderMisses uint64
	MmapHits, MmapMisses     uint64
	// MappedBytes is the number of bytes mapped right now, cached or
	// still referenced by a Plan.
	MappedBytes int64
	// LeaseBreaks counts the leased files whose lease the kernel broke
	// (Config.Lease); LeaseBusy the opens whose lease was refused with
	// EAGAIN (a writer), LeaseRefused those refused for good.
	LeaseBreaks, LeaseBusy, LeaseRefused uint64
}

// New opens the document root and builds a Core with the configured
// caches.
func New(cfg Config) (*Core, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(cfg.Root)
	if err != nil {
		return nil, fmt.Errorf("httpcore: document root: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("httpcore: document root %s: not a directory", cfg.Root)
	}
	root, err := os.OpenRoot(cfg.Root)
	if err != nil {
		return nil, fmt.Errorf("httpcore: document root: %w", err)
	}
	c := &Core{cfg: cfg, root: root, now: time.Now}
	if !cfg.NoPathCache {
		c.paths = newPathCache(cfg.PathCacheEntries)
	}
	if !cfg.NoHeaderCache {
		c.headers = newHeaderCache(cfg.HeaderCacheEntries)
	}
	if !cfg.NoMmapCache {
		c.chunks = newMmapCache(cfg.MmapCacheBytes)
	}
	if cfg.Lease {
		c.leases = &leaseSet{files: make(map[*File]struct{}), drain: cfg.SendFile}
	}
	return c, nil
}

// Close empties the caches (files and chunks still referenced by Plans are
// closed and unmapped when those Plans are released) and closes the root.
func (c *Core) Close() error {
	if c.paths != nil {
		c.paths.clear()
	}
	if c.headers != nil {
		c.headers.clear()
	}
	if c.chunks != nil {
		c.chunks.clear()
	}
	if c.leases != nil {
		c.leases.close()
	}
	if err := c.root.Close(); err != nil {
		return fmt.Errorf("httpcore: close root: %w", err)
	}
	return nil
}

// Config returns the configuration with defaults filled in.
func (c *Core) Config() Config { return c.cfg }

// Stats returns the cache counters.
func (c *Core) Stats() Stats {
	return Stats{
		PathHits:     c.pathHits.Load(),
		PathMisses:   c.pathMisses.Load(),
		HeaderHits:   c.headerHits.Load(),
		HeaderMisses: c.headerMisses.Load(),
		MmapHits:     c.mmapHits.Load(),
		MmapMisses:   c.mmapMisses.Load(),
		MappedBytes:  c.mappedBytes.Load(),
		LeaseBreaks:  c.leaseBreaks.Load(),
		LeaseBusy:    c.leaseBusy.Load(),
		LeaseRefused: c.leaseRefused.Load(),
	}
}
