// Command adrot is a persistent CGI program in the manner of SPECweb99's
// ad rotation: `adrot?user=ID` answers a small HTML page with the ad
// chosen for that user (content.AdPage).
package main

import (
	"flashbench/cgi-apps/app"
	"flashbench/cgi-apps/content"
)

const usage = `Usage: adrot

adrot is a persistent CGI program: webserver starts it (from --cgi-dir) and
hands it requests as frames on its standard input; adrot?user=ID answers a
small HTML page with the ad chosen for that user. It takes no arguments.
`

func main() {
	app.Args(usage)
	app.Main(func(req *app.Request, resp *app.Response) {
		resp.Write(content.AdPage(req.Query("user")))
	})
}
