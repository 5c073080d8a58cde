package cgi

// SetNonblock is the seam of spawn's unix.SetNonblock, for the tests of
// package cgi_test.
var SetNonblock = &setNonblock

// Spawn is spawn for the tests of package cgi_test: it starts path with a
// pool of poolSize bytes, then kills it again.
func Spawn(path string, poolSize int) error {
	p, err := spawn(path, "", poolSize)
	if p != nil {
		p.kill()
		<-p.done
		p.closePool()
	}
	return err
}
