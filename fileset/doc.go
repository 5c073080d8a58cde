// Package fileset builds the static file sets the Flash and IO-Lite experiments
// serve, describes each set in a manifest, and produces the access sequences the
// load generator replays.
//
// # File sets
//
// A set lives in one directory D and is described by D/manifest.json:
//
//   - specweb99: directories dir00000, dir00001, ... each holding the 36 files
//     classC_F (C in 0..3, F in 0..8) of size base[C]*(F+1)/10 bytes, with base
//     {1024, 10240, 102400, 1024000}. The directory count follows SPECweb99:
//     int(25 + (400000/122000*connections)/5).
//   - specweb96: the same layout with SPECweb96's sizes: round(102.4*(F+1)),
//     1024*(F+1), 10240*(F+1) and 102400*(F+1) bytes for classes 0 to 3. The
//     SPECweb96 scaling rule (directories from the expected throughput) is not
//     reproduced: the directory count uses the SPECweb99 rule above, scaled by
//     connections, so both sets of one run have the same shape.
//   - fixed: Count files of SizeBytes bytes, fixed/f000000, fixed/f000001, ...
//     (the 500 B and 50 KB sets of the HotOS experiments).
//   - single: one file, single/file, of SizeBytes bytes.
//
// File contents are printable text lines drawn from a PCG generator seeded by
// the set's seed and a hash of the file's path, so the same seed always yields
// the same bytes. Generation is idempotent: when D already holds the set the
// manifest describes, with every file at its size, nothing is written.
//
// # Access traces
//
// A trace is plain UTF-8 text, one URL path per line ("/dir00003/class1_4").
// Lines starting with '#' are comments (the generator writes one header line
// naming the manifest's kind, the seed and the request count); blank lines are
// ignored. Generated traces follow the SPECweb99 distributions (see Sampler);
// traces can also be extracted from Common Log Format access logs (see ReadCLF).
package fileset
