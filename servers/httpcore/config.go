package httpcore

import (
	"errors"
	"fmt"
	"time"
)

// Config configures a Core. The zero value of every field but Root is a
// working default with all three Flash caches on. Its JSON form is how
// a re-executed child or worker gets it whole.
type Config struct {
	// Root is the document root (required).
	Root string `json:"root"`
	// ServerName is the Server header value, default "flashbench".
	ServerName string `json:"server_name"`
	// Limits bounds requests; zero fields take DefaultLimits.
	Limits Limits `json:"limits"`
	// NoPathCache, NoHeaderCache and NoMmapCache turn off the pathname
	// translation cache, the response header cache and the mapped-file
	// cache, as in the Flash paper's cache ablation.
	NoPathCache   bool `json:"no_path_cache"`
	NoHeaderCache bool `json:"no_header_cache"`
	NoMmapCache   bool `json:"no_mmap_cache"`
	// PathCacheEntries bounds the pathname cache, default 8192.
	PathCacheEntries int `json:"path_cache_entries"`
	// HeaderCacheEntries bounds the response header cache, default 8192.
	HeaderCacheEntries int `json:"header_cache_entries"`
	// MmapCacheBytes bounds the mapped bytes the mapped-file cache holds,
	// default 256 MiB. Chunks still referenced by a Plan stay mapped past
	// eviction until released.
	MmapCacheBytes int64 `json:"mmap_cache_bytes"`
	// ChunkSize is the mapping granularity, default 512 KiB; a multiple
	// of the page size.
	ChunkSize int64 `json:"chunk_size_bytes"`
	// Revalidate is how old a cached translation may get before a hit
	// re-stats the file, default 1s.
	Revalidate time.Duration `json:"revalidate_ns"`
	// AlwaysRevalidate re-stats on every hit.
	AlwaysRevalidate bool `json:"always_revalidate"`
	// SendFile plans file bodies as BodyFile (descriptor, offset, length)
	// instead of BodyMapped.
	SendFile bool `json:"send_file"`
	// SendFileMin is the smallest body SendFile plans as a file range;
	// shorter ones are mapped chunks, sent with their header in one
	// writev. A copy of a small body costs less than sendfile's extra
	// call; IO-Lite chose per size too. 0: every body.
	SendFileMin int64 `json:"send_file_min_bytes"`
	// Lease takes a read lease (fcntl F_SETLEASE F_RDLCK) on every file
	// the core opens, so that no one can truncate or write a file while
	// its bytes are being sent: a truncation zeroes the part of the page
	// holding the new end in place, so a writev from a mapping of it
	// copies zeros, and so does a socket still referencing the page after
	// sendfile. The kernel makes the writer wait and signals SIGIO; the
	// architecture must then call BrokenLeases, stop the responses
	// sending from those files, and release them: at once for mapped
	// bodies, once no socket references their pages with sendfile, where
	// retired files are drained the same way (RetiredLeases). A file that
	// cannot be leased because someone has it open for writing (EAGAIN)
	// is answered 503 and not cached; one that cannot be leased at all
	// (not its owner without CAP_LEASE, leases disabled or unsupported)
	// is sent as mapped chunks, unprotected.
	Lease bool `json:"lease"`
	// CGIPrefix is the path prefix under which a request names a CGI
	// program (see CGIName), default "/cgi-bin/".
	CGIPrefix string `json:"cgi_prefix"`
}

// Defaults applied by New to zero Config fields.
const (
	DefaultServerName         = "flashbench"
	DefaultPathCacheEntries   = 8192
	DefaultHeaderCacheEntries = 8192
	DefaultMmapCacheBytes     = 256 << 20
	DefaultChunkSize          = 512 << 10
	DefaultRevalidate         = time.Second
	DefaultCGIPrefix          = "/cgi-bin/"
)

// withDefaults fills zero fields and checks the rest.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.Root == "" {
		return cfg, errors.New("httpcore: config: root is required")
	}
	if cfg.ServerName == "" {
		cfg.ServerName = DefaultServerName
	}
	cfg.Limits = cfg.Limits.WithDefaults()
	if cfg.PathCacheEntries <= 0 {
		cfg.PathCacheEntries = DefaultPathCacheEntries
	}
	if cfg.HeaderCacheEntries <= 0 {
		cfg.HeaderCacheEntries = DefaultHeaderCacheEntries
	}
	if cfg.MmapCacheBytes <= 0 {
		cfg.MmapCacheBytes = DefaultMmapCacheBytes
	}
	if cfg.ChunkSize <= 0 {
		cfg.ChunkSize = DefaultChunkSize
	}
	if cfg.ChunkSize%int64(pageSize) != 0 {
		return cfg, fmt.Errorf("httpcore: config: chunk size %d is not a multiple of the page size %d", cfg.ChunkSize, pageSize)
	}
	if cfg.Revalidate <= 0 {
		cfg.Revalidate = DefaultRevalidate
	}
	if cfg.CGIPrefix == "" {
		cfg.CGIPrefix = DefaultCGIPrefix
	}
	return cfg, nil
}
