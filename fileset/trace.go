package fileset

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// WriteTrace writes n requests drawn from s in the trace format: the header as
// a '#' comment line (omitted if empty), then one URL path per line.
func WriteTrace(w io.Writer, header string, s *Sampler, n int) error {
	bw := bufio.NewWriter(w)
	writeHeader(bw, header)
	for range n {
		bw.WriteString(s.Next().URL())
		bw.WriteByte('\n')
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("fileset: write trace: %w", err)
	}
	return nil
}

// WritePaths writes paths in the trace format, after the header comment.
func WritePaths(w io.Writer, header string, paths []string) error {
	bw := bufio.NewWriter(w)
	writeHeader(bw, header)
	for _, p := range paths {
		bw.WriteString(p)
		bw.WriteByte('\n')
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("fileset: write trace: %w", err)
	}
	return nil
}

func writeHeader(w *bufio.Writer, header string) {
	if header != "" {
		w.WriteString("# " + strings.ReplaceAll(header, "\n", " ") + "\n")
	}
}

// ReadTrace reads a trace: the URL paths of its lines, in order, skipping
// comment and blank lines. A line that is not a path is an error.
func ReadTrace(r io.Reader) ([]string, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLogLine)
	var paths []string
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if !strings.HasPrefix(line, "/") || strings.ContainsAny(line, " \t") {
			return nil, fmt.Errorf("fileset: trace line %d: not a url path", n)
		}
		paths = append(paths, line)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, errors.New("fileset: read trace: line too long")
		}
		return nil, fmt.Errorf("fileset: read trace: %w", err)
	}
	return paths, nil
}
