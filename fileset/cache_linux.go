package fileset

import (
	"fmt"
	"os"
	"path/filepath"

	"flashbench/internal/mincore"

	"golang.org/x/sys/unix"
)

// Evict drops every file of m, found under dir, from the page cache, so the
// next run starts disk-bound: each file is flushed (dirty pages cannot be
// dropped) and then advised away with POSIX_FADV_DONTNEED. File systems that
// live in memory (tmpfs) keep their pages whatever the advice.
func Evict(m *Manifest, dir string) error {
	for i := range m.Files {
		if err := evictFile(filepath.Join(dir, filepath.FromSlash(m.Files[i].Path))); err != nil {
			return fmt.Errorf("fileset: evict %s: %w", m.Files[i].Path, err)
		}
	}
	return nil
}

func evictFile(name string) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	fd := int(f.Fd())
	if err := unix.Fdatasync(fd); err != nil {
		return os.NewSyscallError("fdatasync", err)
	}
	if err := unix.Fadvise(fd, 0, 0, unix.FADV_DONTNEED); err != nil {
		return os.NewSyscallError("fadvise", err)
	}
	return nil
}

// Resident reports how many bytes of m's files, found under dir, are in the
// page cache, and their total size. It maps each file and asks mincore, which
// neither reads the file nor changes what is cached.
func Resident(m *Manifest, dir string) (resident, total int64, err error) {
	page := int64(os.Getpagesize())
	for i := range m.Files {
		f := &m.Files[i]
		n, err := residentFile(filepath.Join(dir, filepath.FromSlash(f.Path)), f.SizeBytes, page)
		if err != nil {
			return 0, 0, fmt.Errorf("fileset: resident %s: %w", f.Path, err)
		}
		resident += n
		total += f.SizeBytes
	}
	return resident, total, nil
}

func residentFile(name string, size, page int64) (int64, error) {
	f, err := os.Open(name)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if fi.Size() != size {
		return 0, fmt.Errorf("size %d bytes, manifest says %d", fi.Size(), size)
	}
	if size == 0 {
		return 0, nil
	}
	data, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return 0, os.NewSyscallError("mmap", err)
	}
	defer unix.Munmap(data)
	vec := make([]byte, (size+page-1)/page)
	if err := mincore.Pages(data, vec); err != nil {
		return 0, err
	}
	var n int64
	for i, v := range vec {
		if v&1 != 0 {
			n += min(page, size-int64(i)*page)
		}
	}
	return n, nil
}

// InMemory reports whether dir's file system keeps its files in memory
// (tmpfs, ramfs), where Evict can drop nothing.
func InMemory(dir string) (bool, error) {
	var fs unix.Statfs_t
	if err := unix.Statfs(dir, &fs); err != nil {
		return false, fmt.Errorf("fileset: %w", os.NewSyscallError("statfs", err))
	}
	return fs.Type == unix.TMPFS_MAGIC || fs.Type == unix.RAMFS_MAGIC, nil
}
