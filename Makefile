# Scribe. The two commands a newcomer needs are `make run` and `make test`;
# everything they need (redis-server, chromium, npm packages, the web bundle)
# is installed, started or built here when missing.
SHELL := /bin/bash
GO    ?= go
ADDR  ?= 127.0.0.1:8080
DATA  ?= ./data

.PHONY: run test bench build web test-go test-web test-e2e deps redis chromium fuzz clean

## run: build what is needed and start Scribe on http://$(ADDR) with the embedded store
run: web
	$(GO) run ./cmd/scribe serve --addr $(ADDR) --data-dir $(DATA)

## build: the one binary, bin/scribe
build: web
	$(GO) build -o bin/scribe ./cmd/scribe

## test: every test suite: vet, Go unit/property/fuzz-seed/Redis/git tests, web unit tests, browser tests
test: deps web
	$(GO) vet ./...
	$(GO) test -race -timeout 30m ./...
	$(MAKE) test-web
	$(MAKE) test-e2e

## bench: every Go benchmark: OT core, wire format, both stores, export, the Go client (figures and
## commands in docs/benchmarks.md; the load tool against a running server is `scribe bench`)
bench: deps web
	$(GO) test -run '^$$' -bench . -benchmem ./ot/... ./protocol/... ./store/... ./export/... ./server/...

## fuzz: run each fuzz target of the OT core and the wire decoders for FUZZTIME (default 60s); a failing input is saved under the package's testdata/fuzz
FUZZTIME ?= 60s
fuzz:
	$(GO) test ./ot -run '^$$' -fuzz '^FuzzApplyJSON$$' -fuzztime $(FUZZTIME)
	$(GO) test ./ot -run '^$$' -fuzz '^FuzzTransform$$' -fuzztime $(FUZZTIME)
	$(GO) test ./ot -run '^$$' -fuzz '^FuzzTransformOver$$' -fuzztime $(FUZZTIME)
	$(GO) test ./protocol -run '^$$' -fuzz '^FuzzOpFast$$' -fuzztime $(FUZZTIME)
	$(GO) test ./protocol -run '^$$' -fuzz '^FuzzClientFrame$$' -fuzztime $(FUZZTIME)
	$(GO) test ./protocol -run '^$$' -fuzz '^FuzzParseFrame$$' -fuzztime $(FUZZTIME)

## deps: services the tests use, installed or started when missing
deps: redis chromium

redis:
	./scripts/ensure-redis.sh

chromium:
	./scripts/ensure-chromium.sh

## web: the browser bundle web/dist (embedded by go:embed), rebuilt when web/src, web/static or the lock file change
WEB_SRC := $(shell find web/src web/static -type f 2>/dev/null) web/build.mjs
web: web/dist/app.js

# npm ci only when node_modules is missing or the lock file changed; npm
# writes node_modules/.package-lock.json, touched so make sees it as new.
web/node_modules/.package-lock.json: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	touch $@

web/dist/app.js: web/node_modules/.package-lock.json $(WEB_SRC)
	cd web && node build.mjs

## test-web: the client's unit tests (protocol state machine, OT, CodeMirror mapping) with node --test
test-web: web/node_modules/.package-lock.json
	cd web && node --test test/

## test-e2e: browser tests: real Chromium (playwright-core) against the real bin/scribe
test-e2e: chromium build
	cd web && SCRIBE_BIN=$(CURDIR)/bin/scribe node --test --test-concurrency=1 e2e/

clean:
	rm -rf bin
