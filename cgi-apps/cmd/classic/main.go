// Command classic is a CGI/1.1 program (RFC 3875): one process per
// request, the request in environment variables (REQUEST_METHOD,
// QUERY_STRING, CONTENT_LENGTH, ...) and the body on standard input, the
// response on standard output as CGI header fields, an empty line and the
// body. It answers what dyn answers: `classic?size=N` gives N bytes of
// content.Fill's pattern, a POST its own body.
package main

import (
	"bufio"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"

	"flashbench/cgi-apps/app"
	"flashbench/cgi-apps/content"
)

const usage = `Usage: classic

classic is a CGI/1.1 program (RFC 3875): webserver --cgi-classic runs it
once per request, the request in its environment (REQUEST_METHOD,
QUERY_STRING, CONTENT_LENGTH) and the body on its standard input;
classic?size=N answers N bytes of text, a POST its own body. It takes no
arguments.
`

func main() {
	app.Args(usage)
	if err := run(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "classic: %v\n", err)
		os.Exit(1)
	}
}

func run(in io.Reader, out io.Writer) error {
	w := bufio.NewWriterSize(out, 64<<10)
	if os.Getenv("REQUEST_METHOD") == "POST" {
		n, err := strconv.ParseInt(os.Getenv("CONTENT_LENGTH"), 10, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("CONTENT_LENGTH %q: %w", os.Getenv("CONTENT_LENGTH"), err)
		}
		fmt.Fprintf(w, "Content-Type: application/octet-stream\r\n\r\n")
		if _, err := io.CopyN(w, in, n); err != nil {
			return fmt.Errorf("read body: %w", err)
		}
		return w.Flush()
	}
	q, _ := url.ParseQuery(os.Getenv("QUERY_STRING"))
	n, err := content.ParseSize(q.Get("size"), content.MaxSize)
	if err != nil {
		fmt.Fprintf(w, "Status: 400 Bad Request\r\nContent-Type: text/plain\r\n\r\n%v\n", err)
		return w.Flush()
	}
	fmt.Fprintf(w, "Content-Type: text/plain\r\n\r\n")
	w.Write(content.Dyn(n))
	return w.Flush()
}
