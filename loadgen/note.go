package loadgen

import (
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// explanations say what each error class suggests about the server, for
// the one line that tells a user what went wrong.
var explanations = [NumErrorClasses]string{
	ConnectRefused:   "the server refused connections (not running, or stopped during the run)",
	ConnectTimeout:   "connection attempts timed out (the server is overloaded or unreachable)",
	Reset:            "the server reset connections (it crashed or aborted them)",
	ReadError:        "the server closed connections without a response, or reading failed",
	WriteError:       "sending requests failed",
	Timeout:          "responses took longer than the timeout",
	BadStatus:        "the server answered with error statuses",
	ShortBody:        "the server closed connections in the middle of responses",
	ChecksumMismatch: "response bodies differed from the manifest",
	AddrExhausted:    "the client ran out of local ports or file descriptors",
}

// Dominant returns the class with the most failures, the first on a tie;
// ok is false when there are none.
func (e *Errors) Dominant() (class ErrorClass, ok bool) {
	var most int64
	for i, n := range e {
		if n > most {
			class, most, ok = ErrorClass(i), n, true
		}
	}
	return class, ok
}

// nothingMeasured begins the note of a run that measured no request: no
// response completed in its measurement, whatever else happened.
const nothingMeasured = "no request measured"

// diagnose says in one line what went wrong in the run, "" when nothing
// did: that no request was measured, how many failed, the dominant class
// and what it suggests, and when the last response came if none came in
// the last tenth of the run.
func (r *Report) diagnose() string {
	class, ok := r.Errors.Dominant()
	if !ok {
		if r.Requests == 0 {
			return fmt.Sprintf("%s: no response completed in the %s measurement%s", nothingMeasured,
				r.Elapsed.Round(time.Millisecond), r.inFlight())
		}
		return ""
	}
	total := r.Errors.Total()
	s := fmt.Sprintf("%d errors, %d responses completed", total, r.Requests)
	if r.Requests == 0 {
		s = fmt.Sprintf("%s: %d errors, no response completed", nothingMeasured, total)
	}
	s += fmt.Sprintf(", mostly %s (%d): %s", class, r.Errors[class], explanations[class])
	// A response-less tail of a tenth of the run or more is the sign of
	// a server that stopped: say when the last response came.
	if r.Requests > 0 && r.Elapsed > 0 && r.Elapsed-r.LastResponse >= r.Elapsed/10 {
		s += fmt.Sprintf("; the last response completed %s into the %s measurement",
			r.LastResponse.Round(time.Millisecond), r.Elapsed.Round(time.Millisecond))
	}
	return s
}

// inFlight says how many requests were abandoned in flight, if any.
func (r *Report) inFlight() string {
	if r.Aborted == 0 {
		return ""
	}
	return fmt.Sprintf(" (%d requests abandoned in flight)", r.Aborted)
}

// Unreachable returns the report of a run that could not start because
// Preflight failed with err: no request sent, the failed connection
// attempt counted in its error class, and a note saying so. It lets a
// caller write a result document for the run all the same.
func Unreachable(cfg Config, err error) (*Report, error) {
	cfg, _, cerr := cfg.prepare()
	if cerr != nil {
		return nil, cerr
	}
	rep := &Report{Config: cfg, Classes: cfg.Workload.Classes(), StartedAt: time.Now()}
	rep.Histograms = newHistograms(len(rep.Classes))
	class := connectClass(err)
	if errors.Is(err, unix.EINPROGRESS) || errors.Is(err, unix.EAGAIN) {
		class = ConnectTimeout // Preflight's blocking connect ran out of time
	}
	rep.Errors[class] = 1
	rep.ConnectAttempt = 1
	rep.Note = fmt.Sprintf("no request sent, the connection attempt failed with %s (%v): %s", class, err, explanations[class])
	return rep, nil
}
