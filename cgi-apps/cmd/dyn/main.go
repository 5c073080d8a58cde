// Command dyn is a persistent CGI program: `dyn?size=N` answers N bytes of
// content.Fill's pattern (text/plain); a POST is answered with its own
// body (application/octet-stream), so that request bodies can be checked
// end to end. A bad size is a 400.
//
// Like the persistent CGI programs of the IO-Lite paper, dyn keeps the
// documents it generates (app.Response.Cached): the pattern of a size is
// written once, and every later response of that size hands out the same
// immutable buffer, through the shared-memory pool by reference or, over
// pipes, written to the pipe from where it lies.
package main

import (
	"strconv"

	"flashbench/cgi-apps/app"
	"flashbench/cgi-apps/content"
)

const usage = `Usage: dyn

dyn is a persistent CGI program: webserver starts it (from --cgi-dir) and
hands it requests as frames on its standard input; dyn?size=N answers N
bytes of text, a POST its own body. It takes no arguments.
`

func main() {
	app.Args(usage)
	app.Main(serve)
}

func serve(req *app.Request, resp *app.Response) {
	if string(req.Method) == "POST" {
		resp.ContentType = "application/octet-stream"
		resp.Write(req.Body)
		return
	}
	resp.ContentType = "text/plain"
	n, err := content.ParseSize(req.Query("size"), content.MaxSize)
	if err != nil {
		resp.Status = 400
		resp.Write([]byte(err.Error() + "\n"))
		return
	}
	resp.Cached(strconv.Itoa(n), n, content.Fill)
}
