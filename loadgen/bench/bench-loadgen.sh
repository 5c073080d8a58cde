#!/usr/bin/env bash
# bench-loadgen: loadgen against wrk, head to head, on this machine.
#
# nginx (1 worker, pinned to CPU 0) serves a 500 B and a 50 KB file; wrk and
# loadgen in turn (pinned to CPU 1) drive it with the same connections and
# duration, keep-alive and one request per connection. It prints, for each
# case, both tools' requests/s and client CPU per request, and the ratios
# the targets are stated in: loadgen/wrk throughput (target >= 0.95) and
# loadgen/wrk CPU per request (target <= 1). Last, loadgen holds 10,000
# keep-alive connections open and its peak RSS per connection is printed
# (target < 20 KB).
#
# Needs: nginx, wrk, taskset (util-linux), /usr/bin/time (Debian: time), go.
# Knobs: CONNS (default 64), DURATION in seconds (default 5), IDLE_CONNS (10000).
set -euo pipefail

# Settings are environment variables (above); --help prints this header.
if [ $# -gt 0 ]; then
	case $1 in
	-h | --help | -help)
		sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"
		exit 0
		;;
	*)
		echo "bench-loadgen: bad usage: unexpected argument '$1': settings are environment variables (see bench-loadgen.sh --help)" >&2
		exit 2
		;;
	esac
fi
cd "$(dirname "$0")/../.."

CONNS=${CONNS:-64}
DURATION=${DURATION:-5}
IDLE_CONNS=${IDLE_CONNS:-10000}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}

for tool in nginx wrk taskset /usr/bin/time go; do
	command -v "$tool" >/dev/null || { echo "bench-loadgen: $tool not found" >&2; exit 1; }
done

work=$(mktemp -d)
nginx_pid=
cleanup() {
	if [ -n "$nginx_pid" ]; then kill "$nginx_pid" 2>/dev/null || true; wait "$nginx_pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/loadgen" ./loadgen/cmd/loadgen
mkdir -p "$work/www" "$work/logs" "$work/tmp"
head -c 500 /dev/zero | tr '\0' 'a' >"$work/www/500b"
head -c 51200 /dev/zero | tr '\0' 'b' >"$work/www/50kb"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 18089)
cat >"$work/nginx.conf" <<EOF
worker_processes 1;
worker_rlimit_nofile 65536;
error_log $work/logs/error.log;
pid $work/nginx.pid;
events { worker_connections 30000; }
http {
  access_log off;
  sendfile on;
  keepalive_requests 100000000;
  keepalive_timeout 120s;
  client_body_temp_path $work/tmp;
  proxy_temp_path $work/tmp;
  fastcgi_temp_path $work/tmp;
  uwsgi_temp_path $work/tmp;
  scgi_temp_path $work/tmp;
  server { listen 127.0.0.1:$port backlog=4096; root $work/www; }
}
EOF
ulimit -n 65536 2>/dev/null || true
setsid taskset -c "$SERVER_CPU" nginx -p "$work" -c "$work/nginx.conf" -g 'daemon off; master_process off;' &
nginx_pid=$!
for _ in $(seq 50); do
	(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
	sleep 0.1
done
base="http://127.0.0.1:$port"

# timed CMD...: runs CMD pinned to the client CPU; sets cpu_s (user+system)
# and rss_kb (peak) from /usr/bin/time, leaves CMD's stdout in $work/out.
timed() {
	/usr/bin/time -f '%U %S %M' -o "$work/time" taskset -c "$CLIENT_CPU" "$@" >"$work/out" 2>"$work/err" || {
		cat "$work/err" >&2
		return 1
	}
	read -r user sys rss_kb <"$work/time"
	cpu_s=$(echo "$user + $sys" | bc -l)
}

run_wrk() { # file mode
	local hdr=()
	[ "$2" = close ] && hdr=(-H 'Connection: close')
	timed wrk -t 1 -c "$CONNS" -d "${DURATION}s" "${hdr[@]}" "$base/$1"
	reqs=$(awk '/requests in/ {print $1}' "$work/out")
	rps=$(awk '/Requests\/sec:/ {print $2}' "$work/out")
}

run_loadgen() { # file mode
	local k=0
	[ "$2" = close ] && k=1
	timed "$work/loadgen" -t 1 -c "$CONNS" -d "${DURATION}s" --warmup 0s --requests-per-conn "$k" \
		-o "$work/lg.json" "$base/$1"
	reqs=$(awk '/ requests in / {print $1}' "$work/out")
	rps=$(awk '/Requests\/sec:/ {print $2}' "$work/out")
}

printf '%-6s %-10s %12s %12s %14s %14s %10s %10s\n' file mode wrk_rps lg_rps wrk_us_cpu/req lg_us_cpu/req rps_ratio cpu_ratio
for file in 500b 50kb; do
	for mode in keepalive close; do
		run_wrk "$file" "$mode"
		wrk_rps=$rps wrk_cpr=$(echo "$cpu_s * 1000000 / $reqs" | bc -l)
		run_loadgen "$file" "$mode"
		lg_rps=$rps lg_cpr=$(echo "$cpu_s * 1000000 / $reqs" | bc -l)
		printf '%-6s %-10s %12.0f %12.0f %14.2f %14.2f %10.3f %10.3f\n' "$file" "$mode" \
			"$wrk_rps" "$lg_rps" "$wrk_cpr" "$lg_cpr" \
			"$(echo "$lg_rps / $wrk_rps" | bc -l)" "$(echo "$lg_cpr / $wrk_cpr" | bc -l)"
	done
done

# Memory: the same open keep-alive connections, few and many; the
# difference in peak RSS over the difference in connections is the cost of
# one connection.
timed "$work/loadgen" -t 1 -c 10 -d 3s --warmup 0s --requests-per-conn 0 --think-time 100ms "$base/500b"
small_kb=$rss_kb
timed "$work/loadgen" -t 1 -c "$IDLE_CONNS" -d 3s --warmup 0s --requests-per-conn 0 --think-time 100ms --timeout 20s "$base/500b"
big_kb=$rss_kb
per_conn=$(echo "($big_kb - $small_kb) * 1024 / ($IDLE_CONNS - 10)" | bc -l)
errors=$(awk '/^Errors:/ {print $2}' "$work/out")
printf 'memory: %d connections peak RSS %d KB, 10 connections %d KB: %.0f bytes per connection (target < 20480), errors %s\n' \
	"$IDLE_CONNS" "$big_kb" "$small_kb" "$per_conn" "$errors"
