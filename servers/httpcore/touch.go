package httpcore

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Touch reads one byte of every page of b, which pages mapped file data
// in (as Flash's helpers do) and proves it readable. A page past the end
// of a file truncated under the mapping raises SIGBUS; Touch turns that
// fault into an error instead of a crash, and restores the goroutine's
// previous fault setting. All code in this process that reads mapped
// bytes goes through Touch.
func Touch(b []byte) (err error) {
	old := debug.SetPanicOnFault(true)
	defer func() {
		r := recover()
		debug.SetPanicOnFault(old)
		if r != nil {
			err = fmt.Errorf("httpcore: touch mapped memory: %v", r)
		}
	}()
	var s byte
	for i := 0; i < len(b); i += pageSize {
		s += b[i]
	}
	if len(b) > 0 {
		s += b[len(b)-1]
	}
	runtime.KeepAlive(s) // the reads must happen
	return nil
}
