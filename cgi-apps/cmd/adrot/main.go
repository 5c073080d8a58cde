// Command adrot is a persistent CGI program in the manner of SPECweb99's
// ad rotation: `adrot?user=ID` answers a small HTML page with the ad
// chosen for that user (content.AdPage).
package main

import (
	"flashbench/cgi-apps/app"
	"flashbench/cgi-apps/content"
)

func main() {
	app.Main(func(req *app.Request, resp *app.Response) {
		resp.Write(content.AdPage(req.Query("user")))
	})
}
