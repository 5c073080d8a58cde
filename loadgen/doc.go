// Package loadgen is flashbench's load generator: the instrument every
// comparison is read from.
//
// Its engine is built like wrk: each of Config.Threads workers is a goroutine
// locked to its own OS thread running a raw epoll loop over non-blocking
// sockets, with its share of the connections as small state machines,
// request bytes preformatted per target, and a response parser that does not
// allocate. Latencies go into one set of HdrHistograms per worker (1 µs to
// 60 s, 3 significant digits, values in microseconds), merged losslessly when
// the run ends.
//
// The seams follow vegeta: a Pacer decides WHEN a request goes out (closed
// loop, constant or Poisson arrivals), a Workload decides WHAT is requested
// (one URL, a weighted URL list, a file set manifest sampled with the
// SPECweb99 distributions, or a trace replayed in order), and the connection
// model (requests per connection, pipelining depth) decides HOW.
package loadgen
