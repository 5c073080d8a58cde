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
// A request costs the client as few system calls as its connection model
// allows: a write and a read with keep-alive; socket, epoll_ctl (one
// registration, edge-triggered, for the socket's whole life), connect,
// write, read and close with a connection per request. Those calls never
// block, so they bypass the scheduler's system call hooks; only epoll_wait
// goes through them. Run keeps one P more than there are workers, so that a
// worker waiting in epoll_wait keeps its P and the runtime's monitor thread
// has no reason to wake up every 20 µs. Source addresses are bound only once
// the ephemeral ports run out, and nothing allocates per request.
//
// The seams follow vegeta: a Pacer decides WHEN a request goes out (closed
// loop, constant or Poisson arrivals), a Workload decides WHAT is requested
// (one URL, a weighted URL list, a file set manifest sampled with the
// SPECweb99 distributions, or a trace replayed in order), and the connection
// model (requests per connection, pipelining depth) decides HOW.
package loadgen
