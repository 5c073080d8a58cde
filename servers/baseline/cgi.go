package baseline

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/valyala/fasthttp"

	"flashbench/cgi-apps/cgiproto"
	"flashbench/servers/httpcore"
	"flashbench/servers/internal/cgi"
)

// cgiPrefix is where the baselines route requests to CGI programs, as
// httpcore does by default.
const cgiPrefix = httpcore.DefaultCGIPrefix

// cgiStatus is the status of a failed CGI call.
func cgiStatus(err error) int {
	var se *cgi.StatusError
	if errors.As(err, &se) {
		return se.Status
	}
	return http.StatusBadGateway
}

// withCGI routes /cgi-bin/NAME to m's persistent programs, the rest to h.
func withCGI(h http.Handler, m *cgi.Manager) http.Handler {
	if m == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, ok := strings.CutPrefix(r.URL.Path, cgiPrefix)
		if !ok {
			h.ServeHTTP(w, r)
			return
		}
		if !httpcore.ValidProgramName([]byte(name)) {
			http.NotFound(w, r)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, httpcore.DefaultLimits.MaxBody))
		if err != nil {
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		req := cgiproto.Request{Method: []byte(r.Method), Path: []byte(r.URL.Path), Query: []byte(r.URL.RawQuery), Body: body}
		for k, vs := range r.Header {
			for _, v := range vs {
				req.Headers = append(req.Headers, cgiproto.Header{Name: []byte(k), Value: []byte(v)})
			}
		}
		res, err := m.Call([]byte(name), &req)
		if err != nil {
			st := cgiStatus(err)
			http.Error(w, http.StatusText(st), st)
			return
		}
		w.Header().Set("Content-Type", string(res.ContentType))
		w.Header().Set("Content-Length", strconv.Itoa(len(res.Body)))
		w.WriteHeader(res.Status)
		w.Write(res.Body)
	})
}

// fastCGIHandler routes /cgi-bin/NAME to m's persistent programs, the
// rest to h.
func fastCGIHandler(h fasthttp.RequestHandler, m *cgi.Manager) fasthttp.RequestHandler {
	if m == nil {
		return h
	}
	prefix := []byte(cgiPrefix)
	return func(ctx *fasthttp.RequestCtx) {
		path := ctx.Path()
		if !bytes.HasPrefix(path, prefix) {
			h(ctx)
			return
		}
		name := path[len(prefix):]
		if !httpcore.ValidProgramName(name) {
			ctx.Error("Not Found", fasthttp.StatusNotFound)
			return
		}
		body := ctx.PostBody()
		if int64(len(body)) > httpcore.DefaultLimits.MaxBody {
			ctx.Error("request body too large", fasthttp.StatusRequestEntityTooLarge)
			return
		}
		req := cgiproto.Request{Method: ctx.Method(), Path: path, Query: ctx.URI().QueryString(), Body: body}
		for k, v := range ctx.Request.Header.All() {
			req.Headers = append(req.Headers, cgiproto.Header{Name: k, Value: v})
		}
		res, err := m.Call(name, &req)
		if err != nil {
			st := cgiStatus(err)
			ctx.Error(http.StatusText(st), st)
			return
		}
		ctx.SetStatusCode(res.Status)
		ctx.SetContentTypeBytes(res.ContentType)
		ctx.SetBody(res.Body)
	}
}
