package httpcore

import (
	"sync/atomic"
	"time"
)

// TimeFormat is the IMF-fixdate layout of HTTP dates (RFC 9110 5.6.7).
const TimeFormat = "Mon, 02 Jan 2006 15:04:05 GMT"

// httpDateLen is the length of an IMF-fixdate.
const httpDateLen = len(TimeFormat)

// dateCache holds the Date value of the current second. It is rebuilt at
// most once a second, into a new entry, so a reader never sees a torn
// value and a request does not allocate.
type dateCache struct {
	cur atomic.Pointer[dateEntry]
}

type dateEntry struct {
	sec int64
	b   [httpDateLen]byte
}

// get returns the entry for now's second.
func (d *dateCache) get(now time.Time) *dateEntry {
	sec := now.Unix()
	if e := d.cur.Load(); e != nil && e.sec == sec {
		return e
	}
	e := &dateEntry{sec: sec}
	AppendHTTPDate(e.b[:0], now)
	d.cur.Store(e)
	return e
}

// AppendHTTPDate appends t as an IMF-fixdate.
func AppendHTTPDate(dst []byte, t time.Time) []byte {
	return t.UTC().AppendFormat(dst, TimeFormat)
}

// ParseHTTPDate parses an HTTP date: IMF-fixdate without allocating, and
// the obsolete RFC 850 and asctime forms recipients must also accept.
func ParseHTTPDate(b []byte) (time.Time, bool) {
	if t, ok := parseIMFFixdate(b); ok {
		return t, true
	}
	for _, layout := range []string{time.RFC850, time.ANSIC} {
		if t, err := time.Parse(layout, string(b)); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

var months = [12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// parseIMFFixdate parses "Sun, 06 Nov 1994 08:49:37 GMT". The weekday is
// not checked against the date, as most servers do.
func parseIMFFixdate(b []byte) (time.Time, bool) {
	if len(b) != httpDateLen || b[3] != ',' || b[4] != ' ' || b[7] != ' ' ||
		b[11] != ' ' || b[16] != ' ' || b[19] != ':' || b[22] != ':' ||
		string(b[25:]) != " GMT" {
		return time.Time{}, false
	}
	month := -1
	for i, m := range months {
		if string(b[8:11]) == m {
			month = i
			break
		}
	}
	day, ok1 := digits(b[5:7])
	year, ok2 := digits(b[12:16])
	hh, ok3 := digits(b[17:19])
	mm, ok4 := digits(b[20:22])
	ss, ok5 := digits(b[23:25])
	if month < 0 || !ok1 || !ok2 || !ok3 || !ok4 || !ok5 ||
		day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60 {
		return time.Time{}, false
	}
	return time.Date(year, time.Month(month+1), day, hh, mm, ss, 0, time.UTC), true
}

// digits parses a short run of ASCII digits.
func digits(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}
