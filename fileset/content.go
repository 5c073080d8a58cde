package fileset

import (
	"hash/fnv"
	"math/rand/v2"
)

// alphabet holds the 64 printable bytes file content is drawn from.
const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 ."

// lineLen is the length of a content line, newline included.
const lineLen = 64

// content produces a file's deterministic bytes: printable lines drawn from a
// PCG generator seeded by the set's seed and a hash of the file's path. The
// bytes of a shorter file are a prefix of those of a longer one at the same
// path, and two paths or two seeds give unrelated content.
type content struct {
	rng *rand.PCG
	off int64
}

func newContent(seed uint64, path string) *content {
	h := fnv.New64a()
	h.Write([]byte(path))
	return &content{rng: rand.NewPCG(seed, h.Sum64())}
}

// fill writes the next len(p) bytes of the file into p.
func (c *content) fill(p []byte) {
	var word uint64
	left := 0
	for i := range p {
		if (c.off+int64(i))%lineLen == lineLen-1 {
			p[i] = '\n'
			continue
		}
		if left == 0 {
			word, left = c.rng.Uint64(), 8
		}
		p[i] = alphabet[word&63]
		word >>= 8
		left--
	}
	c.off += int64(len(p))
}
