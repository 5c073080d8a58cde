// Command page is a persistent CGI program that wraps a file of the file
// set in an HTML template: `page?file=NAME` answers content.Page(NAME,
// the file's bytes), NAME read beneath the directory in FLASHBENCH_CGI_ROOT
// (the server's document root) and never above it. A missing file is a
// 404.
package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"flashbench/cgi-apps/app"
	"flashbench/cgi-apps/content"
)

// EnvRoot names the directory page serves files from.
const EnvRoot = "FLASHBENCH_CGI_ROOT"

const usage = `Usage: FLASHBENCH_CGI_ROOT=DIR page

page is a persistent CGI program: webserver starts it (from --cgi-dir) with
its document root in FLASHBENCH_CGI_ROOT and hands it requests as frames on
its standard input; page?file=NAME answers the file NAME of that directory
wrapped in an HTML page. It takes no arguments.
`

func main() {
	app.Args(usage)
	root, err := os.OpenRoot(os.Getenv(EnvRoot))
	if err != nil {
		fmt.Fprintf(os.Stderr, "page: %s: %v\n", EnvRoot, err)
		os.Exit(1)
	}
	app.Main(func(req *app.Request, resp *app.Response) { serve(root, req, resp) })
}

func serve(root *os.Root, req *app.Request, resp *app.Response) {
	name := req.Query("file")
	data, err := root.ReadFile(name)
	if err != nil || name == "" {
		resp.Status = 404
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			resp.Status = 403
		}
		resp.ContentType = "text/plain"
		resp.Write([]byte("page: no such file\n"))
		return
	}
	pre := content.PagePrefix(name)
	b := resp.Body(len(pre) + len(data) + len(content.PageSuffix))
	n := copy(b, pre)
	n += copy(b[n:], data)
	copy(b[n:], content.PageSuffix)
}
