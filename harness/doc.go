// Package harness runs flashbench's experiments end to end: one call
// builds the file set, starts each server architecture pinned to its own
// core, verifies it, warms it up, measures it trial by trial with the load
// generator pinned to another core, and archives one result document per
// point with the run's index (run.json), in the spirit of the TechEmpower
// toolset, with statistics over trials and lossless histograms.
//
// # Experiment files
//
// An experiment is one TOML file in harness/experiments (built in) or
// anywhere (given by path):
//
//	name = "hotos97"                 # names the results directory
//	description = "..."              # one line, shown by `harness list`
//	figure = "HotOS 1997, Table 1"   # what it reproduces
//	archs = ["sped", "amped", "nginx", "apache2-event"]
//
//	[fileset]                        # fileset.Options
//	kind = "fixed"                   # specweb99, specweb96, fixed, single, cgi
//	count = 64                       # fixed: files
//	size_bytes = 500                 # fixed, single; cgi: the response's size
//	# connections = 64               # specweb99/96: sizes the set
//	# program = "dyn"                # cgi only (the default, and the only one)
//
//	[load]                           # loadgen's configuration
//	connections = 32
//	requests_per_conn = 1            # 1: one request per connection; 0: keep-alive
//	duration = "2s"                  # per trial
//	warmup = "1s"                    # once per server start, before trials
//	trials = 3
//	server_cpu = 0.3                 # the server's CPU budget, in cores
//	# threads, think_time, timeout, rate_per_conn_rps, max_error_ratio,
//	# allow_saturated_client
//
//	[server]
//	# args = ["--helpers", "4"]      # extra webserver flags (not --arch,
//	                                 # --root, --listen or --stats-file:
//	                                 # the harness sets those)
//
//	[sweep]                          # one parameter, or none
//	param = "file_size_bytes"        # file_size_bytes, clients, connections,
//	values = [500, 51200]            # dataset_bytes, caches
//
//	[memory]                         # bound the server with a memory cgroup
//	# limit_bytes = 134217728        # and evict the set before each point
//
//	[disk]                           # serve the set from a slow device model
//	# latency = "5ms"                # (bin/slowdisk, FUSE): per read that
//	# channels = 8                   # misses the page cache; reads at once;
//	# bytes_per_s = 0                # one channel's transfer rate, 0: none
//
//	[syscalls]                       # after the rounds, each contender's
//	# requests = 3000                # system calls under strace over this
//	                                 # many requests (0: none; syscalls.go)
//
//	[paper]                          # the paper's numbers, as ratios
//	ratios = { "amped/sped" = 1.0 }
//	note = "..."
//	# tolerance = 0.1                # a ratio holds within this factor
//	                                 # of the paper's, either way
//
//	[[target]]                       # flashbench's own goals, any number
//	ratio = "sped/nginx"             # num/den: two of archs
//	min = 1.15                       # exactly one of min and max
//	# max = 3.0
//	# metric = "server_cpu_per_request_us"  # a report.Metrics name;
//	                                 # throughput_rps when absent
//	# settings = ["51200"]           # values of the swept parameter;
//	                                 # every setting when absent
//	note = "sped at least 1.15x nginx"
//
// A target is measured as a paper ratio is: the median of the per-round
// ratios of server-bound trials, with the 95% interval of that median. It
// is met when the whole interval lies at or past the bound (low end >= min,
// high end <= max), not met when the whole interval falls short of it,
// undecided otherwise or when nothing was measured; a side that a run
// narrowed with --archs left out is reported as not measured.
//
// The cgi kind generates no files: every request asks the webserver's
// persistent CGI program, /cgi-bin/dyn?size=SIZE_BYTES (the programs of
// bin/cgi-bin, which `make build` builds next to the webserver), and
// verification fetches one response and compares it with content.Dyn. The
// file_size_bytes sweep varies the response's size; memory, disk and the
// dataset_bytes sweep do not apply. Real servers have no persistent CGI:
// their cgi points are skipped, as are cgi points on the ssh topology,
// whose hosts get no CGI programs. flashlite answers CGI through shared
// memory, the other architectures over pipes.
//
// [disk] needs [memory]. For each cell, bin/slowdisk mounts the file set
// afresh (cold) on TMPDIR/flashbench-slowdisk-PID-CELL-*, in the harness's
// mount namespace (a netns server inherits it), pinned to the client's
// CPUs and outside the server's cgroup, and the server serves the mount.
// Each trial's result records the device's model and what it did during
// the measurement (result key disk: reads, busy time, mean and most reads
// in flight); the run's log gets the device's own last line per cell. The
// ssh topology skips memory and disk experiments.
//
// Unknown keys are errors, so a misspelt key never silently falls back to a
// default. Architectures are `webserver --arch` names, their Variants
// (sped-nocache: sped without its caches, the HotOS paper's thttpd), or
// the real servers in Externals (nginx, nginx-deferred, apache2-prefork, apache2-worker,
// apache2-event, lighttpd, mini_httpd, webfsd, caddy, h2o), each run in
// the foreground from a configuration of its own in a temporary
// directory; one that is not available is recorded as skipped, with the
// reason.
//
// # Runs
//
// For each cell (an architecture at one sweep value) the server is started
// in its own session, under taskset on the topology's server CPUs
// (GOMAXPROCS set to their number), verified (one file of each class, by
// sha256; for cgi, one response), warmed up, and measured Trials times by
// bin/loadgen run as a child process on the client CPUs. The trials run
// in interleaved rounds (rounds.go): round r measures every architecture
// of a sweep value once (every cell, with one architecture or no sweep),
// in an order shuffled from the file set's seed and rotated by r-1, before
// round r+1; servers stay up across rounds, started once, except with
// [memory] or [disk], where each trial starts its server afresh. The server's CPU time is read from
// its CPU cgroup every 50 ms during each trial and interpolated at the ends
// of the client's measurement window (result key budget: CPU time, CPU per
// request, use of the budget, throttled periods), and from /proc for its
// process tree before and after the trial (server.cpu_user_s and
// cpu_system_s); its peak memory (the tree's summed VmHWM) is sampled
// during it, and its stats file read after it. A point fails, with its reason, when the server does not
// start, verification fails, errors exceed max_error_ratio, or the client
// was saturated; the run goes on. A server that exits during a trial fails
// that point, whose document is archived all the same (the client's errors
// by class, its CPU time up to the last sample, a note saying how it
// ended); the cell's later trials are recorded as not run, in their
// rounds, and the run goes on with the other cells (a server started
// afresh each trial gets a new start in the next round). run.json is rewritten after every point. A
// result or index that cannot be written (a full disk) stops the run at
// once with that error: what was written before stays as it was, and no
// temporary file is left. A cancelled context stops the run cleanly:
// processes are stopped by their own PID (SIGTERM, then SIGKILL to their
// process group), the server before its device, devices unmounted, cgroups
// removed, finished points kept, and run.json marked interrupted. A device
// whose harness dies gets SIGTERM and unmounts itself. Cgroups of harness
// runs that no longer exist (killed before they could clean up) are swept
// when a run next makes one, their slowdisk mount points (a device killed
// outright leaves a dead mount) at the start of the next run as root.
//
// # CPU budget
//
// The papers' testbeds had one server CPU and client machines that
// outran it. On one machine the harness gets the same by holding the
// server to a CPU budget while the client has a core of its own: each
// cell's server runs with its whole process tree (workers, helpers,
// forked children, CGI programs) in a CPU cgroup flashbench-PID-CELL with
// a quota of server_cpu cores (DefaultServerCPU when absent; 1: no quota,
// the cgroup then only accounts) per CPUPeriod of 10 ms, so that a
// throttled server waits at most a few milliseconds, and with the highest
// CPU weight, so that other tasks on a shared machine do not take the
// budget: the quota caps the server, the weight gives it its budget. cgroup v2 (cpu.max)
// and v1 (cpu.cfs_period_us and cpu.cfs_quota_us, usage from cpuacct,
// mounted together with cpu or apart) are found by probing CgroupRoot.
// The server joins the cgroup (one per v1 hierarchy) before it is exec'd,
// as with the memory cgroup, for the local and netns topologies and for
// the real servers alike. Without a writable CPU controller (not root, no
// controller, a read-only mount) and on the ssh topology the run goes on
// unbudgeted: one line says why, and every result's budget section says
// so (unbudgeted_reason).
//
// # Topologies
//
// Where the server and the client run, and how they reach each other, is
// package topology's: local (the default), netns (two network namespaces
// on this machine) and ssh (other hosts, or Vagrant's VMs). The harness's
// own connections (verification) go through the client side
// (topology.Dialer), and it only targets loopback, BenchNet and the hosts
// it was given (CheckTarget): the topology's server address is checked
// before the run, and the address each server reports listening on
// before any request goes to it. On ssh the server host, or
// --server-addr, is a host given.
package harness
