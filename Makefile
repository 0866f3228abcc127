# gotevent: make test (what CI runs), make demo, make bench, make fuzz, make lint.
GO        ?= go
PKGS      := ./...
FUZZTIME  ?= 30s
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.7.0

.PHONY: all test fmt-check vet race demo bench fuzz lint soak

all: test

## test: gofmt check, go vet and the race-enabled test suite (CI runs this)
test: fmt-check vet race

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

race:
	$(GO) test -race -count=1 -timeout 15m $(PKGS)

## demo: the runnable tour on loopback
demo:
	$(GO) run ./cmd/tsocket-demo

## bench: the suite against Go net, gnet, nbio, netpoll and redis-server
## (tests/bench, a module of its own): servers pinned to CPU 1, load on CPU 0; regenerates
## docs/performance.md and docs/perf/*.svg in about 20 minutes.
## BENCH_QUICK=1: one short round (about 4 minutes) into tests/bench/results/;
## other knobs in tests/bench/cmd/harness. BENCH_MICRO=1 also runs the
## packages' micro-benchmarks into bench.out.
bench:
	@if ! command -v taskset >/dev/null || ! command -v redis-benchmark >/dev/null || ! command -v redis-server >/dev/null; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			(apt-get update -qq && apt-get install -y -qq util-linux redis-tools redis-server) >/dev/null 2>&1 || \
				echo "bench: could not install util-linux, redis-tools and redis-server; going on without them"; \
		fi; \
	fi
	cd tests/bench && $(GO) run ./cmd/harness
	@if [ "$(BENCH_MICRO)" = 1 ]; then \
		$(GO) test -run '^$$' -bench . -benchmem -count=5 ./tevent/ ./tqueue/ ./tsocket/ 2>/dev/null | tee bench.out; \
	fi

## fuzz: run every fuzz target for FUZZTIME each
fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
			echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 5s $$pkg || exit 1; \
		done; \
	done

## soak: the long soak against the demo's RESP server (SOAK=60s by default);
## a short version of the same test runs in make test
SOAK ?= 60s
soak:
	GOTEVENT_SOAK=$(SOAK) $(GO) test -count=1 -run '^TestSoak' -timeout 60m -v ./tests/

## lint: gofmt, vet and staticcheck
lint: fmt-check vet
	$(GO) run $(STATICCHECK) $(PKGS)
