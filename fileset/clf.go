package fileset

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// maxLogLine bounds one access log line; longer lines are reported, not split.
const maxLogLine = 1 << 20

// ReadCLF returns the request paths of the GET lines of an access log in
// Common Log Format or Combined Log Format, in order, whatever their status:
//
//	host ident authuser [date] "GET /path HTTP/1.0" status bytes ["referer" "agent"]
//
// Lines of other methods and "-" requests (as servers log for connections
// closed before a request) are skipped, and so are blank lines. Absolute URIs
// keep only their path. A malformed line is an error naming its line number.
func ReadCLF(r io.Reader) ([]string, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLogLine)
	var paths []string
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		p, err := parseCLFLine(line)
		if err != nil {
			return nil, fmt.Errorf("fileset: access log line %d: %w", n, err)
		}
		if p != "" {
			paths = append(paths, p)
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("fileset: access log line %d: line longer than %d bytes", n+1, maxLogLine)
		}
		return nil, fmt.Errorf("fileset: read access log: %w", err)
	}
	return paths, nil
}

// parseCLFLine returns the path of a GET line, "" for any other valid line.
func parseCLFLine(line string) (string, error) {
	open := strings.IndexByte(line, '[')
	if open < 0 || len(strings.Fields(line[:open])) != 3 || !strings.HasSuffix(line[:open], " ") {
		return "", errors.New("malformed host, ident or user field")
	}
	rest := line[open+1:]
	end := strings.IndexByte(rest, ']')
	if end <= 0 {
		return "", errors.New("malformed timestamp")
	}
	rest = rest[end+1:]
	if !strings.HasPrefix(rest, ` "`) {
		return "", errors.New("malformed request field")
	}
	request, rest, ok := quoted(rest[2:])
	if !ok {
		return "", errors.New("malformed request field")
	}
	fields := strings.Fields(rest)
	if len(fields) < 2 || !strings.HasPrefix(rest, " ") {
		return "", errors.New("malformed status or size field")
	}
	if !isDigits(fields[0]) || len(fields[0]) != 3 {
		return "", errors.New("malformed status field")
	}
	if fields[1] != "-" && !isDigits(fields[1]) {
		return "", errors.New("malformed size field")
	}
	return requestPath(request)
}

// quoted splits s at the first unescaped '"', unescaping \" and \\ on the way.
func quoted(s string) (field, rest string, ok bool) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 < len(s) {
				i++
			}
			b.WriteByte(s[i])
		case '"':
			return b.String(), s[i+1:], true
		default:
			b.WriteByte(s[i])
		}
	}
	return "", "", false
}

// requestPath returns the path of a GET request line, "" for other methods.
func requestPath(request string) (string, error) {
	if request == "-" {
		return "", nil
	}
	parts := strings.Split(request, " ")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || strings.ToUpper(parts[0]) != parts[0] {
		return "", errors.New("malformed request field")
	}
	if len(parts) == 3 && !strings.HasPrefix(parts[2], "HTTP/") {
		return "", errors.New("malformed request field")
	}
	uri := parts[1]
	for _, scheme := range []string{"http://", "https://"} {
		if rest, ok := strings.CutPrefix(uri, scheme); ok {
			if slash := strings.IndexByte(rest, '/'); slash >= 0 {
				uri = rest[slash:]
			} else {
				uri = "/"
			}
		}
	}
	if !strings.HasPrefix(uri, "/") || strings.ContainsAny(uri, " \t\r\n") {
		return "", errors.New("malformed request field")
	}
	if parts[0] != "GET" {
		return "", nil
	}
	return uri, nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
