package httpcore

import "bytes"

// targetChars marks the bytes a request-target may carry unescaped: the
// characters of an RFC 3986 absolute-path and query (unreserved,
// sub-delims, ":", "@", "/", "?" and the "%" of pct-encoded), the
// brackets of an IP-literal in an absolute-form authority, and the
// printable characters the WHATWG URL Standard lets browsers send raw in
// paths and queries ("\", "^", "`", "{", "|", "}"), so that what a user
// types in a browser still reaches the file lookup. Everything else is
// refused with 400: controls, space, DEL, bytes above 0x7f (non-ASCII must
// be percent-encoded), `"`, "<", ">", and "#", since a fragment is never
// sent (RFC 9112 3.2).
var targetChars = func() (t [256]bool) {
	for c := 0x21; c < 0x7f; c++ {
		t[c] = true
	}
	for _, c := range []byte(`"<>#`) {
		t[c] = false
	}
	return t
}()

// regNameChars marks the bytes of an RFC 3986 reg-name other than the "%"
// of pct-encoded: unreserved and sub-delims. IPv4 addresses are reg-names
// by syntax.
var regNameChars = alnumAnd("-._~!$&'()*+,;=")

// validHost reports whether b is uri-host [ ":" port ] (RFC 9110 7.2 and
// RFC 3986 3.2.2): an IP-literal in brackets or a reg-name, then an
// optional port of digits. An empty host is valid: RFC 9112 3.2 has a
// client send an empty Host when the target URI has no authority.
func validHost(b []byte) bool {
	if len(b) > 0 && b[0] == '[' {
		end := bytes.IndexByte(b, ']')
		if end < 0 || !validIPLiteral(b[1:end]) {
			return false
		}
		rest := b[end+1:]
		return len(rest) == 0 || (rest[0] == ':' && allDigits(rest[1:]))
	}
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case regNameChars[c]:
		case c == '%' && i+2 < len(b) && isHex(b[i+1]) && isHex(b[i+2]):
			i += 2
		case c == ':':
			return allDigits(b[i+1:])
		default:
			return false
		}
	}
	return true
}

// validIPLiteral reports whether b, the inside of an IP-literal's
// brackets, is an IPv6address or an IPvFuture ("v" 1*HEXDIG "." then
// unreserved, sub-delims or ":").
func validIPLiteral(b []byte) bool {
	if len(b) > 0 && (b[0] == 'v' || b[0] == 'V') {
		dot := bytes.IndexByte(b, '.')
		if dot < 2 || !allHex(b[1:dot]) || dot == len(b)-1 {
			return false
		}
		for _, c := range b[dot+1:] {
			if !regNameChars[c] && c != ':' {
				return false
			}
		}
		return true
	}
	return validIPv6(b)
}

// validIPv6 reports whether b is an RFC 3986 IPv6address: eight groups of
// one to four hex digits separated by ":", or fewer with one "::" standing
// for the missing zero groups, the last two groups possibly written as an
// IPv4 address.
func validIPv6(b []byte) bool {
	groups, elided := 0, false
	if len(b) >= 2 && b[0] == ':' && b[1] == ':' {
		elided, b = true, b[2:]
	}
	for len(b) > 0 {
		n := 0
		for n < len(b) && n < 5 && isHex(b[n]) {
			n++
		}
		if n < len(b) && b[n] == '.' {
			// ls32 as an IPv4 address: the last two groups.
			groups += 2
			if !validIPv4(b) {
				return false
			}
			break
		}
		if n == 0 || n > 4 {
			return false
		}
		groups++
		b = b[n:]
		if len(b) == 0 {
			break
		}
		if b[0] != ':' {
			return false
		}
		if b = b[1:]; len(b) > 0 && b[0] == ':' {
			if elided {
				return false
			}
			elided, b = true, b[1:]
		} else if len(b) == 0 {
			return false // a trailing single ":"
		}
	}
	if elided {
		return groups <= 7
	}
	return groups == 8
}

// validIPv4 reports whether b is an RFC 3986 IPv4address: four dec-octets
// (0 to 255, no leading zero) separated by ".".
func validIPv4(b []byte) bool {
	for part := range 4 {
		if part > 0 {
			if len(b) == 0 || b[0] != '.' {
				return false
			}
			b = b[1:]
		}
		n, v := 0, 0
		for n < len(b) && n < 4 && isDigit(b[n]) {
			v = v*10 + int(b[n]-'0')
			n++
		}
		if n == 0 || n > 3 || v > 255 || (n > 1 && b[0] == '0') {
			return false
		}
		b = b[n:]
	}
	return len(b) == 0
}

// allDigits reports whether b is *DIGIT (empty included).
func allDigits(b []byte) bool {
	for _, c := range b {
		if !isDigit(c) {
			return false
		}
	}
	return true
}

// allHex reports whether b is *HEXDIG (empty included).
func allHex(b []byte) bool {
	for _, c := range b {
		if !isHex(c) {
			return false
		}
	}
	return true
}

func isHex(c byte) bool {
	_, ok := unhex(c)
	return ok
}
