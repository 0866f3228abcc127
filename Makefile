# gotevent: make test and make test-arm64 (what CI runs), make demo, make bench,
# make fuzz, make lint.
GO        ?= go
PKGS      := ./...
FUZZTIME  ?= 30s
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.7.0
# The platforms the module must build on besides this one: make vet-cross
# vets the whole module, tests included, for each (README "Platforms").
CROSS     := linux/arm64 linux/riscv64 linux/386 darwin/arm64 darwin/amd64 freebsd/amd64
# The packages whose tests make test-arm64 runs on linux/arm64 under
# qemu-user (Debian package qemu-user).
ARM64_PKGS := ./tevent ./tqueue ./tsocket ./internal/... ./docs ./tests
QEMU_ARM64 ?= qemu-aarch64

.PHONY: all test fmt-check vet vet-cross race test-arm64 demo bench fuzz lint soak

all: test

## test: gofmt check, go vet here and for every platform in CROSS, and the
## race-enabled test suite (CI runs this, then test-arm64)
test: fmt-check vet vet-cross race

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

## vet-cross: go vet of the whole module for each platform in CROSS, with
## cgo off as a cross build has it: proof that every platform we claim
## builds, since the syscall layer differs per system and architecture
vet-cross:
	@for p in $(CROSS); do \
		echo "go vet $$p"; \
		GOOS=$${p%/*} GOARCH=$${p#*/} CGO_ENABLED=0 $(GO) vet $(PKGS) || exit 1; \
	done

## test-arm64: the test binaries of ARM64_PKGS built for linux/arm64 (static,
## cgo off, so no race detector) and run under qemu-aarch64, each in its
## package's directory as go test does. GOTEVENT_QEMU tells tests that start
## a child copy of their binary to start it under the emulator too: the
## kernel cannot exec an arm64 binary on its own here.
test-arm64:
	@command -v $(QEMU_ARM64) >/dev/null || { echo "test-arm64: $(QEMU_ARM64) not found (apt-get install qemu-user)"; exit 1; }
	@dir=$$(mktemp -d); trap 'rm -rf "$$dir"' EXIT; \
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) test -c -o "$$dir/" $(ARM64_PKGS) || exit 1; \
	$(GO) list -f '{{.ImportPath}} {{.Dir}}' $(ARM64_PKGS) | while read -r pkg pkgdir; do \
		bin="$$dir/$${pkg##*/}.test"; \
		[ -x "$$bin" ] || continue; \
		start=$$(date +%s); \
		(cd "$$pkgdir" && GOTEVENT_QEMU=$(QEMU_ARM64) $(QEMU_ARM64) "$$bin" -test.count=1 -test.timeout=15m) || { echo "FAIL $$pkg (linux/arm64)"; exit 1; }; \
		echo "ok   $$pkg (linux/arm64 under $(QEMU_ARM64), $$(( $$(date +%s) - start ))s)"; \
	done

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
