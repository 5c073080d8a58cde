package cgi

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"strconv"
	"strings"

	"flashbench/cgi-apps/cgiproto"
)

// classic runs one request as CGI/1.1 (RFC 3875): a new process, the
// request in its environment and the body on its standard input, the
// response read from its standard output as header fields, an empty line
// and the body.
func (m *Manager) classic(path string, name []byte, req *cgiproto.Request) (Result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), m.opts.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path)
	cmd.Env = classicEnv(name, req, m.opts.Root)
	cmd.Stdin = bytes.NewReader(req.Body)
	var out bytes.Buffer
	cmd.Stdout = &out
	m.spawned.Add(1)
	err := cmd.Run()
	m.opts.Stats.UserCopyBytes.Add(uint64(out.Len()))
	switch {
	case ctx.Err() != nil:
		m.timedOut.Add(1)
		return Result{}, &StatusError{504, errorf("%s: %w", name, ctx.Err())}
	case err != nil:
		m.died.Add(1)
		return Result{}, &StatusError{502, errorf("%s: %w", name, err)}
	}
	return parseCGIOutput(out.Bytes())
}

// classicEnv is the RFC 3875 meta-variables of req.
func classicEnv(name []byte, req *cgiproto.Request, root string) []string {
	env := []string{
		"GATEWAY_INTERFACE=CGI/1.1",
		"SERVER_PROTOCOL=HTTP/1.1",
		"SERVER_SOFTWARE=flashbench",
		"SERVER_NAME=localhost",
		"REQUEST_METHOD=" + string(req.Method),
		"SCRIPT_NAME=/cgi-bin/" + string(name),
		"PATH_INFO=",
		"QUERY_STRING=" + string(req.Query),
		"REMOTE_ADDR=127.0.0.1",
		EnvRoot + "=" + root,
	}
	if len(req.Body) > 0 || string(req.Method) == "POST" {
		env = append(env, "CONTENT_LENGTH="+strconv.Itoa(len(req.Body)))
	}
	for _, h := range req.Headers {
		k := strings.ToUpper(strings.ReplaceAll(string(h.Name), "-", "_"))
		switch k {
		case "CONTENT_TYPE":
			env = append(env, "CONTENT_TYPE="+string(h.Value))
		case "CONTENT_LENGTH", "PROXY": // already set; httpoxy
		default:
			env = append(env, "HTTP_"+k+"="+string(h.Value))
		}
	}
	return env
}

// parseCGIOutput splits a CGI response into its Status and Content-Type
// fields and the body.
func parseCGIOutput(b []byte) (Result, error) {
	res := Result{Status: 200}
	for {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return Result{}, &StatusError{502, errors.New("cgi: response without end of header")}
		}
		line := bytes.TrimRight(b[:i], "\r")
		b = b[i+1:]
		if len(line) == 0 {
			break
		}
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return Result{}, &StatusError{502, errorf("bad header line %q", line)}
		}
		v = bytes.TrimSpace(v)
		if !cgiproto.ValidFieldValue(v) {
			return Result{}, &StatusError{502, errorf("bad header line %q", line)}
		}
		switch strings.ToLower(string(k)) {
		case "content-type":
			res.ContentType = v
		case "status":
			digits, _, _ := bytes.Cut(v, []byte(" "))
			code, err := strconv.Atoi(string(digits))
			if err != nil || !cgiproto.BodyStatus(code) {
				return Result{}, &StatusError{502, errorf("bad status %q", v)}
			}
			res.Status = code
		}
	}
	if res.ContentType == nil {
		return Result{}, &StatusError{502, errors.New("cgi: response without content-type")}
	}
	res.Body = b
	return res, nil
}
