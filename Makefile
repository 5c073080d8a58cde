# flashbench: build, test, fuzz, and the benchmarks (bench, bench-servers, bench-loadgen, soak).
GO        ?= go
BIN       := bin
# Every main package outside cgi-apps/ becomes bin/<name>; CGI programs go to bin/cgi-bin/.
CMDS      = $(shell $(GO) list -f '{{if eq .Name "main"}}{{.ImportPath}}{{end}}' ./... | grep -v /cgi-apps/)
CGI_CMDS  = $(shell $(GO) list -f '{{if eq .Name "main"}}{{.ImportPath}}{{end}}' ./cgi-apps/... 2>/dev/null)
FUZZTIME  ?= 10s
TESTFLAGS ?= -count=1 -timeout 9m
SOAK_DURATION ?= 10m

.PHONY: all build test vet fuzz clean bench bench-loadgen bench-servers vagrant-bench soak

all: build

# -buildvcs=auto, over a GOFLAGS that may turn it off: the result documents take
# the commit from the binaries' build information. CGO_ENABLED=0: static
# binaries, which start without the dynamic loader (a forking child starts
# once per connection; harness --base builds its webserver the same way).
build:
	@mkdir -p $(BIN)
	CGO_ENABLED=0 $(GO) build -buildvcs=auto -o $(BIN)/ $(CMDS)
	@if [ -n "$(CGI_CMDS)" ]; then mkdir -p $(BIN)/cgi-bin && CGO_ENABLED=0 $(GO) build -buildvcs=auto -o $(BIN)/cgi-bin/ $(CGI_CMDS); fi

vet:
	$(GO) vet ./...

# test: vet, then every package's tests (fuzz targets run their seed corpus).
test: vet build
	$(GO) test $(TESTFLAGS) ./...

# fuzz: each fuzz target in turn for FUZZTIME (go test allows one target per run).
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
		for target in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			echo "== $$pkg $$target ($(FUZZTIME))"; \
			$(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) $$pkg; \
		done; \
	done

# bench: the main job: every architecture and the installed real servers on
# the seed paper's workloads (hotos97, local topology), then its CGI row
# (hotos97-cgi: 50 KB CGI, amped over pipes, flashlite over shared memory).
# Prints the seed paper's table as measured, then each run's tables, and
# where the JSON, reports and plots went (results/hotos97/<timestamp>/,
# whose report holds both runs, and results/hotos97-cgi/<timestamp>/).
bench: build
	$(BIN)/harness run --bin $(BIN) hotos97 hotos97-cgi

# vagrant-bench: hotos97 across two VMs (server, client) with the ssh topology.
vagrant-bench: build
	vagrant up
	mkdir -p .vagrant && vagrant ssh-config > .vagrant/ssh-config
	$(BIN)/harness run --bin $(BIN) hotos97 --topology ssh --ssh-config .vagrant/ssh-config --server-host server --client-hosts client --server-addr 198.18.10.10

# soak: every architecture at once for SOAK_DURATION of mixed load while
# faults are injected; fails on a leak, a crash or a lost result
# (results/soak/<timestamp>/soak.json and soak.md).
soak: build
	$(BIN)/harness soak --bin $(BIN) --duration $(SOAK_DURATION)

# bench-loadgen: loadgen against wrk on nginx (not budgeted: the clients are
# compared), side by side; prints the ratios and archives every run and
# summary.json under results/bench-loadgen/<timestamp>/. BENCH_LOADGEN_FLAGS
# goes to bin/benchloadgen, e.g. BENCH_LOADGEN_FLAGS='--duration 10s'.
BENCH_LOADGEN_FLAGS ?=
bench-loadgen: build
	$(BIN)/benchloadgen --bin $(BIN) $(BENCH_LOADGEN_FLAGS)

# bench-servers: three harness experiments, archived under
# results/<experiment>/<timestamp>/ like any run: every architecture beside
# nginx, Apache and mini_httpd on a cached file, one request per connection
# (servers-close), and beside nginx and Apache prefork with keep-alive
# (servers-keepalive), then disk-bound amped, sped and threaded
# (servers-disk). Each prints its table, the paper's ratios and its
# targets (flashbench's own goals: sped at least 1.15x nginx, ...), each
# met, not met or undecided. BENCH_FLAGS goes to each `harness run`, e.g.
# BENCH_FLAGS='--trials 8 --server-cpu 0.5'. BASE=REV compares with the
# webserver of git revision REV in the same rounds (harness run --base), e.g.
# `make bench-servers BASE=HEAD~3` before and after a change to the servers.
BENCH_FLAGS ?=
BASE ?=
BASE_FLAG = $(if $(BASE),--base $(BASE))
bench-servers: build
	$(BIN)/harness run --bin $(BIN) $(BASE_FLAG) $(BENCH_FLAGS) servers-close
	$(BIN)/harness run --bin $(BIN) $(BASE_FLAG) $(BENCH_FLAGS) servers-keepalive
	$(BIN)/harness run --bin $(BIN) $(BASE_FLAG) $(BENCH_FLAGS) servers-disk

clean:
	rm -rf $(BIN)
	$(GO) clean -testcache
