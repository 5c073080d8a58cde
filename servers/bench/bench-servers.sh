#!/usr/bin/env bash
# bench-servers: flashbench's event-driven servers against nginx, side by
# side, on this machine.
#
# Cached cases (500 B keep-alive, 500 B one request per connection, 50 KB
# keep-alive): nginx (1 worker, sendfile on, access_log off), then every
# webserver architecture (sped, amped, flashlite, threaded, prefork,
# forking, nethttp, fasthttp, null), each pinned to CPU 0 and driven by the
# client pinned to CPU 1.
#
# Disk-bound case ("disk"): 2000 files of 64 KiB (125 MiB) requested with
# Zipf popularity (weight 1/rank^DISK_ZIPF: a hot head and a long cold
# tail, as in the Flash paper's traces) over 64 keep-alive connections, by
# a server confined to a 64 MiB memory cgroup (its page cache and helpers
# included), so that about half of the set fits. The set lives on a model
# of a slow storage device, bin/slowdisk (FUSE): every read that misses
# the page cache waits DISK_LATENCY (5 ms: a disk's access time) plus its
# transfer time at DISK_BYTES_PER_SECOND per channel, and the device
# serves DISK_CHANNELS reads at once (8: a small disk array, or the queue
# of a network volume), queueing the rest in order. SPED, which reads
# inline, has one read in flight; AMPED has one per busy helper. Each run
# mounts a fresh device (the set is cold) and prints what it did: reads,
# and how many were in flight on average while it was busy.
#
# Why a model: this machine's own virtual disk is cached by the host and
# answers a random 64 KiB read in about 0.1 ms, less than the CPU a server
# spends on a miss, so nothing on it is disk-bound ("disk-vda" below); and
# a blkio token bucket (the earlier model) fixes the rate whatever the
# number of reads in flight, which no device does, so it cannot show the
# effect the Flash paper measures.
#
# Disk on this machine's disk ("disk-vda"): the same set, cgroup and load
# read straight from the virtual disk, unthrottled; reported with its
# ratio, without a target. DISK_VDA=0 skips it.
#
# The machine is shared and noisy, so every case runs ROUNDS rounds with
# the servers interleaved (nginx, sped, amped, null, nginx, sped, ...), and
# the table shows medians; the ratios are of medians measured in this run.
# For each cached run the script also records how busy the server was
# (its threads running or waiting for a CPU, over the run's wall time); a
# target between two servers that both sat idle part of the time (below
# 0.9) is reported as client-bound instead of met or missed: with one
# request per connection a one-core client opens connections more slowly
# than the fastest servers answer them, and the ratio then measures the
# client.
#
# Needs: go, nginx, taskset (util-linux); wrk when BENCH_CLIENT=wrk; root,
# a memory cgroup (v2 at /sys/fs/cgroup or v1 at /sys/fs/cgroup/memory) and
# /dev/fuse for the disk-bound cases, which are skipped otherwise.
# Knobs: ROUNDS (3), DURATION seconds (5), WARMUP seconds (1), CONNS (64),
# BENCH_CLIENT (loadgen|wrk), DISK_FILES (2000), DISK_FILE_BYTES (65536),
# DISK_MEMORY_BYTES (67108864), DISK_LATENCY (5ms), DISK_CHANNELS (8),
# DISK_BYTES_PER_SECOND (0: no transfer time), DISK_ZIPF (1.0, 0 for
# uniform), DISK_SERVERS ("sped amped threaded"), DISK_VDA (1), SERVER_CPU
# (0), CLIENT_CPU (1; the device model runs there too), WORKDIR, SERVERS
# (the cached cases' servers, space separated, nginx first).
set -euo pipefail

# Settings are environment variables (above); --help prints this header.
if [ $# -gt 0 ]; then
	case $1 in
	-h | --help | -help)
		sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"
		exit 0
		;;
	*)
		echo "bench-servers: bad usage: unexpected argument '$1': settings are environment variables (see bench-servers.sh --help)" >&2
		exit 2
		;;
	esac
fi
cd "$(dirname "$0")/../.."

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5}
WARMUP=${WARMUP:-1}
CONNS=${CONNS:-64}
BENCH_CLIENT=${BENCH_CLIENT:-loadgen}
DISK_FILES=${DISK_FILES:-2000}
DISK_FILE_BYTES=${DISK_FILE_BYTES:-65536}
DISK_MEMORY_BYTES=${DISK_MEMORY_BYTES:-67108864}
DISK_LATENCY=${DISK_LATENCY:-5ms}
DISK_CHANNELS=${DISK_CHANNELS:-8}
DISK_BYTES_PER_SECOND=${DISK_BYTES_PER_SECOND:-0}
DISK_VDA=${DISK_VDA:-1}
DISK_ZIPF=${DISK_ZIPF:-1.0}
read -r -a DISK_SERVERS <<<"${DISK_SERVERS:-sped amped threaded}"
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
read -r -a SERVERS <<<"${SERVERS:-nginx sped amped flashlite threaded prefork forking nethttp fasthttp null}"

die() { echo "bench-servers: $*" >&2; exit 1; }
for tool in go nginx taskset; do
	command -v "$tool" >/dev/null || die "$tool not found"
done
case $BENCH_CLIENT in
loadgen) ;;
wrk) command -v wrk >/dev/null || die "wrk not found (BENCH_CLIENT=wrk)" ;;
*) die "BENCH_CLIENT=$BENCH_CLIENT: want loadgen or wrk" ;;
esac

# The work directory must be on a disk, not tmpfs: the disk-bound case
# evicts its files from the page cache.
work=$(mktemp -d "${WORKDIR:-/var/tmp}/flashbench-bench.XXXXXX")
cgroup=
server_pid=
device_pid=
cleanup() {
	stop_server
	stop_device
	if [ -d "$cgroup" ]; then rmdir "$cgroup" 2>/dev/null || echo "bench-servers: could not remove $cgroup" >&2; fi
	if mountpoint -q "$work/mnt" 2>/dev/null; then umount -l "$work/mnt"; fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== building bin/webserver bin/loadgen bin/fileset bin/benchratio bin/slowdisk"
mkdir -p bin
go build -o bin/ ./servers/cmd/webserver ./loadgen/cmd/loadgen ./fileset/cmd/fileset ./servers/bench/benchratio ./servers/bench/slowdisk
ulimit -n 65536 2>/dev/null || true

# Documents: the two cached files, and the disk-bound set.
mkdir -p "$work/www" "$work/results" "$work/nginx/logs" "$work/nginx/tmp"
head -c 500 /dev/zero | tr '\0' 'a' >"$work/www/500b"
head -c 51200 /dev/zero | tr '\0' 'b' >"$work/www/50kb"

# free_port prints a loopback port for nginx that nothing listens on,
# below the ephemeral range so that no client connection holds it.
free_port() {
	local port low
	read -r low _ </proc/sys/net/ipv4/ip_local_port_range
	for _ in $(seq 100); do
		port=$((10000 + RANDOM % (low - 10000)))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			echo "$port"
			return
		fi
	done
	die "no free port"
}

# wait_port waits until 127.0.0.1:$1 accepts connections.
wait_port() {
	for _ in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.05
	done
	die "nothing listens on 127.0.0.1:$1 (server log: $(tail -n 3 "$work/server.log" 2>/dev/null))"
}

# wait_ready waits for webserver's ready line and sets port from it.
wait_ready() {
	local line
	for _ in $(seq 200); do
		line=$(grep -m 1 ' listening on ' "$work/server.log" 2>/dev/null || true)
		if [ -n "$line" ]; then
			port=${line##*:}
			return 0
		fi
		kill -0 "$server_pid" 2>/dev/null || break
		sleep 0.05
	done
	die "webserver did not start (log: $(tail -n 3 "$work/server.log" 2>/dev/null))"
}

# start_server NAME ROOT [CGROUPS]: starts nginx or webserver --arch NAME
# in its own session on SERVER_CPU and sets server_pid and port. With
# CGROUPS (directories, space separated), the server enters each before it
# reads anything; its helpers and workers, its children, inherit them.
start_server() {
	local name=$1 root=$2 cg=${3:-}
	# A log left by the previous server would give wait_ready its port.
	rm -f "$work/server.log"
	if [ "$name" = nginx ]; then
		port=$(free_port)
		sed -e "s|@ROOT@|$root|; s|@PORT@|$port|; s|@WORK@|$work/nginx|g" >"$work/nginx/nginx.conf" <<'EOF'
worker_processes 1;
worker_rlimit_nofile 65536;
error_log @WORK@/logs/error.log;
pid @WORK@/nginx.pid;
events { worker_connections 30000; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000000;
  keepalive_timeout 120s;
  client_body_temp_path @WORK@/tmp;
  proxy_temp_path @WORK@/tmp;
  fastcgi_temp_path @WORK@/tmp;
  uwsgi_temp_path @WORK@/tmp;
  scgi_temp_path @WORK@/tmp;
  server { listen 127.0.0.1:@PORT@ backlog=4096; root @ROOT@; }
}
EOF
		setsid taskset -c "$SERVER_CPU" nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" \
			-g 'daemon off; master_process off;' >"$work/server.log" 2>&1 &
		server_pid=$!
		wait_port "$port"
	elif [ -n "$cg" ]; then
		rm -f "$work/server.pid"
		# sh writes its own PID into the cgroups, then becomes the server.
		setsid sh -c 'for d in $1; do echo $$ >"$d/cgroup.procs" || exit 1; done && echo $$ >"$2" && shift 2 && exec "$@"' sh \
			"$cg" "$work/server.pid" taskset -c "$SERVER_CPU" bin/webserver --arch "$name" --root "$root" \
			--listen 127.0.0.1:0 >"$work/server.log" 2>&1 &
		server_pid=$!
		wait_ready
	else
		setsid taskset -c "$SERVER_CPU" bin/webserver --arch "$name" --root "$root" \
			--listen 127.0.0.1:0 >"$work/server.log" 2>&1 &
		server_pid=$!
		wait_ready
	fi
}

# stop_server stops the server by its own PID: SIGTERM, then SIGKILL.
stop_server() {
	[ -n "$server_pid" ] || return 0
	kill -TERM "$server_pid" 2>/dev/null || true
	for _ in $(seq 100); do
		kill -0 "$server_pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -KILL "$server_pid" 2>/dev/null || true
	wait "$server_pid" 2>/dev/null || true
	server_pid=
}

# start_device: mounts the disk set through a fresh slowdisk on
# $work/mnt, on CLIENT_CPU and outside the server's cgroup (the device's
# own work is not the server's), and sets device_pid.
start_device() {
	mkdir -p "$work/mnt"
	setsid taskset -c "$CLIENT_CPU" bin/slowdisk --backing "$work/disk" --mount "$work/mnt" \
		--latency "$DISK_LATENCY" --channels "$DISK_CHANNELS" --bytes-per-second "$DISK_BYTES_PER_SECOND" \
		>"$work/device.log" 2>&1 &
	device_pid=$!
	for _ in $(seq 200); do
		grep -q '^slowdisk: serving' "$work/device.log" 2>/dev/null && return 0
		kill -0 "$device_pid" 2>/dev/null || break
		sleep 0.05
	done
	die "slowdisk did not start (log: $(tail -n 3 "$work/device.log" 2>/dev/null))"
}

# stop_device unmounts the device (SIGTERM to its own PID); its last log
# line says what it did.
stop_device() {
	[ -n "$device_pid" ] || return 0
	kill -TERM "$device_pid" 2>/dev/null || true
	wait "$device_pid" 2>/dev/null || true
	device_pid=
}

# measure OUT URL KEEPALIVE [loadgen options...]: one client run on
# CLIENT_CPU; the result lands in OUT as JSON with throughput_rps and
# errors_total.
measure() {
	local out=$1 url=$2 keepalive=$3
	shift 3
	if [ "$BENCH_CLIENT" = wrk ]; then
		local hdr=()
		[ "$keepalive" = 1 ] || hdr=(-H 'Connection: close')
		taskset -c "$CLIENT_CPU" wrk -t 1 -c "$CONNS" -d "${WARMUP}s" "${hdr[@]}" "$url" >/dev/null
		taskset -c "$CLIENT_CPU" wrk -t 1 -c "$CONNS" -d "${DURATION}s" "${hdr[@]}" "$url" >"$work/wrk.out"
		awk '/Requests\/sec:/ {rps=$2} /Socket errors:/ {gsub(",", ""); e+=$4+$6+$8+$10} /Non-2xx/ {e+=$NF}
			END {printf "{\"throughput_rps\": %s, \"errors_total\": %d}\n", rps, e}' "$work/wrk.out" >"$out"
		return
	fi
	local per_conn=1
	[ "$keepalive" = 1 ] && per_conn=0
	taskset -c "$CLIENT_CPU" bin/loadgen -c "$CONNS" -d "${DURATION}s" -t 1 --warmup "${WARMUP}s" \
		--requests-per-conn "$per_conn" -o "$out" "$@" "$url" >/dev/null
}

# sched_ns PID prints the nanoseconds PID's threads have run or waited to
# run (on a run queue) since they started, from /proc/PID/task/*/schedstat.
sched_ns() {
	cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ t += $1 + $2 } END { printf "%.0f", t }'
}

# measure_busy OUT PID URL KEEPALIVE [loadgen options...]: measure, and
# write OUT's side file CASE.SERVER.ROUND.server.json with the share of the
# run (warm-up included) that the server's threads ran or were ready to
# run: about 1 (or more) when the server is the bottleneck, well below 1
# when it waited in epoll for the client.
measure_busy() {
	local out=$1 pid=$2 t0 t1 n0 n1
	shift 2
	n0=$(sched_ns "$pid")
	t0=$(date +%s%N)
	measure "$out" "$@"
	n1=$(sched_ns "$pid")
	t1=$(date +%s%N)
	awk -v n=$((n1 - n0)) -v t=$((t1 - t0)) 'BEGIN { printf "{\"server_busy\": %.3f}\n", n / t }' >"${out%.json}.server.json"
}

# rps FILE prints a result's requests/s, rounded, for the progress lines.
rps() {
	awk 'match($0, /"throughput_rps": *[0-9.eE+-]+/) {
		v = substr($0, RSTART, RLENGTH); sub(/.*: */, "", v); printf "%.0f", v; exit }' "$1"
}

# busy FILE prints a side file's server_busy.
busy() { sed -n 's/.*"server_busy": *\([0-9.]*\).*/\1/p' "$1"; }

echo "== load average at start: $(cat /proc/loadavg)"
echo "== client: $BENCH_CLIENT, $CONNS connections, ${WARMUP}s warm-up + ${DURATION}s, $ROUNDS rounds; servers on CPU $SERVER_CPU, client on CPU $CLIENT_CPU"

# Cached cases: case name, file, keep-alive.
cached_cases=("500b-keepalive 500b 1" "500b-close 500b 0" "50kb-keepalive 50kb 1")
for spec in "${cached_cases[@]}"; do
	read -r case file keepalive <<<"$spec"
	for round in $(seq "$ROUNDS"); do
		for srv in "${SERVERS[@]}"; do
			start_server "$srv" "$work/www"
			measure_busy "$work/results/$case.$srv.$round.json" "$server_pid" "http://127.0.0.1:$port/$file" "$keepalive"
			stop_server
			# Busy is a share of one core only for a server that runs one
			# thread at a time: threaded sums its 64 threads' queueing,
			# prefork and forking serve from other processes.
			shown="server busy $(busy "$work/results/$case.$srv.$round.server.json")"
			case $srv in threaded | prefork | forking) shown="server busy not measured (many threads or processes)" ;; esac
			printf '   %-16s round %d %-6s %s req/s, %s\n' "$case" "$round" "$srv" \
				"$(rps "$work/results/$case.$srv.$round.json")" "$shown"
		done
	done
done

# Disk-bound cases: a memory cgroup about half the size of the set.
mem_cgroup_root() {
	if grep -qw memory /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
		echo /sys/fs/cgroup
	elif [ -d /sys/fs/cgroup/memory ] && [ -w /sys/fs/cgroup/memory ]; then
		echo /sys/fs/cgroup/memory
	fi
}
cgroot=$(mem_cgroup_root)
fstype=$(stat -f -c %T "$work")
disk_cases=
if [ "$BENCH_CLIENT" = wrk ]; then
	echo "== disk-bound cases skipped: they need loadgen (--urls) as the client"
elif [ -z "$cgroot" ] || [ "$(id -u)" != 0 ]; then
	echo "== disk-bound cases skipped: no writable memory cgroup (needs root and cgroup v2 or v1 memory)"
elif [ "$fstype" = tmpfs ] || [ "$fstype" = ramfs ]; then
	echo "== disk-bound cases skipped: $work is on $fstype; set WORKDIR to a disk"
elif [ ! -c /dev/fuse ]; then
	echo "== disk-bound cases skipped: no /dev/fuse for the device model"
else
	cgroup=$cgroot/flashbench-bench-$$
	mkdir "$cgroup"
	if [ -f "$cgroup/memory.max" ]; then
		echo "$DISK_MEMORY_BYTES" >"$cgroup/memory.max"
		echo 0 >"$cgroup/memory.swap.max" 2>/dev/null || true
	else
		echo "$DISK_MEMORY_BYTES" >"$cgroup/memory.limit_in_bytes"
	fi
	echo "== disk-bound: $DISK_FILES files of $DISK_FILE_BYTES bytes, Zipf($DISK_ZIPF) popularity, $CONNS keep-alive connections, server in $cgroup limited to $DISK_MEMORY_BYTES bytes"
	echo "   disk: on slowdisk, $DISK_LATENCY per read + transfer at $DISK_BYTES_PER_SECOND B/s (0: none), $DISK_CHANNELS reads at once"
	[ "$DISK_VDA" = 0 ] || echo "   disk-vda: on $(df --output=source "$work" | tail -n 1) itself, unthrottled"
	bin/fileset generate --kind fixed --dir "$work/disk" --size "$DISK_FILE_BYTES" --count "$DISK_FILES" >/dev/null
	awk -v n="$DISK_FILES" -v s="$DISK_ZIPF" 'BEGIN { for (i = 0; i < n; i++) printf "/fixed/f%06d %.9g\n", i, 1 / (i + 1) ^ s }' >"$work/disk.urls"
	disk_cases=disk
	[ "$DISK_VDA" = 0 ] || disk_cases="disk disk-vda"
	for round in $(seq "$ROUNDS"); do
		for case in $disk_cases; do
			for srv in "${DISK_SERVERS[@]}"; do
				root=$work/disk
				if [ "$case" = disk ]; then
					start_device
					root=$work/mnt
				fi
				bin/fileset evict --manifest "$root/manifest.json" >/dev/null
				start_server "$srv" "$root" "$cgroup"
				server_pid=$(cat "$work/server.pid")
				measure "$work/results/$case.$srv.$round.json" "http://127.0.0.1:$port" 1 \
					--urls "$work/disk.urls" --timeout 30s
				resident=$(bin/fileset resident --manifest "$root/manifest.json")
				stop_server
				device=
				if [ "$case" = disk ]; then
					stop_device
					device="; device: $(tail -n 1 "$work/device.log" | sed 's/^slowdisk: //')"
				fi
				printf '   %-16s round %d %-9s %s req/s, set %s%s\n' "$case" "$round" "$srv" \
					"$(rps "$work/results/$case.$srv.$round.json")" "$resident" "$device"
			done
		done
	done
fi

echo "== load average at end: $(cat /proc/loadavg)"
echo
echo "Medians of $ROUNDS interleaved rounds: the machine is shared and noisy, so"
echo "servers take turns within each round and only ratios of medians from this"
echo "one run are compared; absolute requests/s drift from run to run."
echo
bin/benchratio --servers "$(IFS=,; echo "${SERVERS[*]}")" --cases 500b-keepalive,500b-close,50kb-keepalive,disk,disk-vda \
	--target '500b-keepalive:sped/nginx>=1.2' --target '500b-keepalive:amped/nginx>=1.2' \
	--target '500b-close:sped/nginx>=1.0' --target '500b-close:amped/nginx>=1.0' \
	--target '50kb-keepalive:sped/nginx>=1.0' --target '50kb-keepalive:amped/nginx>=1.0' \
	--target '50kb-keepalive:flashlite/amped>=1.1' --target '500b-keepalive:null/sped>=1' --target '500b-close:null/sped>=1' \
	--target 'disk:amped/sped>=2' --target 'disk-vda:amped/sped' \
	"$work/results"
