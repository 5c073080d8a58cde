// Package content builds the bodies flashbench's CGI programs answer
// with. They are pure functions of the request, so that a test or the load
// generator can compute the body it must receive and check it byte for
// byte.
package content

import (
	"fmt"
	"hash/fnv"
	"html"
	"strconv"
)

// Alphabet is the repeating pattern of Fill.
const Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// repeated holds the alphabet many times over, so that Fill is a few
// copies rather than a byte loop (the program's own work should not
// dominate what the server's data path costs).
var repeated = func() []byte {
	b := make([]byte, 0, 64<<10+len(Alphabet))
	for len(b) < cap(b)-len(Alphabet) {
		b = append(b, Alphabet...)
	}
	return b
}()

// Fill writes the body of `dyn?size=len(b)`: byte i is
// Alphabet[(i+len(b)) % len(Alphabet)], a pattern that shifts with the
// size so that responses of different sizes differ at every offset.
func Fill(b []byte) {
	phase := len(b) % len(Alphabet)
	for i := 0; i < len(b); {
		k := (phase + i) % len(Alphabet)
		span := (len(repeated) - k) / len(Alphabet) * len(Alphabet)
		i += copy(b[i:], repeated[k:k+span])
	}
}

// Dyn returns the body of `dyn?size=n`.
func Dyn(n int) []byte {
	b := make([]byte, n)
	Fill(b)
	return b
}

// Ads is the number of ads AdPage rotates through, as in SPECweb99's ad
// rotation (360 ads).
const Ads = 360

// AdID is the ad shown for a user id: a deterministic choice, an FNV-1a
// hash of the id modulo Ads (SPECweb99 picks by the user's profile; a
// hash of the id stands in for the profile match).
func AdID(user string) int {
	h := fnv.New32a()
	h.Write([]byte(user))
	return int(h.Sum32() % Ads)
}

// AdPage is the body of `adrot?user=ID`: a small HTML page with the
// rotated ad and a cookie-like ad tag.
func AdPage(user string) []byte {
	ad := AdID(user)
	return fmt.Appendf(nil, "<html><head><title>flashbench ad rotation</title></head>\n<body>\n"+
		"<p>user %s</p>\n<p><a href=\"/ads/ad%03d.html\"><img src=\"/ads/ad%03d.gif\" alt=\"ad %d\"></a></p>\n"+
		"<p>ad_id=%d expires=%d weight=%d</p>\n</body></html>\n",
		html.EscapeString(user), ad, ad, ad, ad, 1000000+ad*7, 1+ad%16)
}

// PagePrefix and PageSuffix wrap a file of the file set in the body of
// `page?file=NAME`: PagePrefix(NAME) + the file's bytes + PageSuffix.
func PagePrefix(name string) []byte {
	n := html.EscapeString(name)
	return []byte("<html><head><title>" + n + "</title></head>\n<body>\n<h1>" + n + "</h1>\n<pre>\n")
}

// PageSuffix ends the body of `page?file=NAME`.
const PageSuffix = "</pre>\n</body></html>\n"

// Page returns the body of `page?file=name` for a file holding data.
func Page(name string, data []byte) []byte {
	b := append(PagePrefix(name), data...)
	return append(b, PageSuffix...)
}

// ParseSize parses a size=N query value: a decimal count of bytes from 0
// to max.
func ParseSize(s string, max int) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > max {
		return 0, fmt.Errorf("size %q: want a number of bytes from 0 to %d", s, max)
	}
	return n, nil
}

// MaxSize bounds dyn's size parameter (64 MiB).
const MaxSize = 64 << 20
