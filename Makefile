# Scribe. The two commands a newcomer needs are `make run` and `make test`;
# everything they need (redis-server, chromium, npm packages, the web bundle)
# is installed, started or built here when missing.
SHELL := /bin/bash
GO    ?= go
ADDR  ?= 127.0.0.1:8080
DATA  ?= ./data

# Go tools the checks use, installed into $(go env GOPATH)/bin when missing or
# of another version. staticcheck 2026.2.2 (v0.8.2), the newest release, reads Go 1.26.
STATICCHECK_VERSION := v0.8.2
GOBIN_DIR   := $(shell $(GO) env GOPATH)/bin
STATICCHECK := $(GOBIN_DIR)/staticcheck

.PHONY: chaos run test bench build web test-go test-web test-e2e deps redis chromium fuzz clean lint lint-go lint-web staticcheck

## run: build what is needed and start Scribe on http://$(ADDR) with the embedded store
run: web
	$(GO) run ./cmd/scribe serve --addr $(ADDR) --data-dir $(DATA)

## build: the one binary, bin/scribe
build: web
	$(GO) build -o bin/scribe ./cmd/scribe

## test: every check and test suite: lint (go mod tidy, vet, staticcheck, tsc on web/src), Go unit/property/fuzz-seed/Redis/git tests, web unit tests, browser tests
test: deps web lint
	$(GO) test -race -timeout 30m ./...
	$(MAKE) test-web
	$(MAKE) test-e2e

## bench: every Go benchmark: OT core, wire format, both stores, export, the Go client (figures and
## commands in docs/benchmarks.md; the load tool against a running server is `scribe bench`)
bench: deps web
	$(GO) test -run '^$$' -bench . -benchmem ./ot/... ./protocol/... ./markdown/... ./store/... ./export/... ./room/... ./server/... ./client/...

## chaos: the fault-injection suite at length: TestFaults (connection cuts, Redis SIGKILL and restart
## under two nodes and four editors) for CHAOS_ROUNDS rounds, CHAOS_COUNT times, the hung-Redis test,
## and the three real `scribe serve` processes of which one is SIGKILLed mid-edit (TestThreeNodes);
## `make test` runs each once (TestFaults for 3 rounds)
CHAOS_ROUNDS ?= 30
CHAOS_COUNT  ?= 3
chaos: deps
	$(GO) test -race -timeout 30m -count=$(CHAOS_COUNT) -run '^(TestFaults|TestHungRedisToldToClients)$$' ./server -chaos.rounds=$(CHAOS_ROUNDS)
	$(GO) test -race -timeout 30m -count=$(CHAOS_COUNT) -run '^TestThreeNodes$$' ./client/loadtest

## fuzz: run each fuzz target of the OT core and the wire decoders for FUZZTIME (default 60s); a failing input is saved under the package's testdata/fuzz
FUZZTIME ?= 60s
fuzz:
	$(GO) test ./ot -run '^$$' -fuzz '^FuzzApplyJSON$$' -fuzztime $(FUZZTIME)
	$(GO) test ./ot -run '^$$' -fuzz '^FuzzTransform$$' -fuzztime $(FUZZTIME)
	$(GO) test ./ot -run '^$$' -fuzz '^FuzzTransformOver$$' -fuzztime $(FUZZTIME)
	$(GO) test ./protocol -run '^$$' -fuzz '^FuzzOpFast$$' -fuzztime $(FUZZTIME)
	$(GO) test ./protocol -run '^$$' -fuzz '^FuzzClientFrame$$' -fuzztime $(FUZZTIME)
	$(GO) test ./protocol -run '^$$' -fuzz '^FuzzParseFrame$$' -fuzztime $(FUZZTIME)

## lint: the static checks make test runs first; each fails on any finding
lint: lint-go lint-web

## lint-go: go.mod and go.sum are what go mod tidy would write; go vet and staticcheck find nothing
lint-go: staticcheck
	$(GO) mod tidy -diff
	$(GO) vet ./...
	$(STATICCHECK) ./...

## lint-web: tsc type-checks web/src from its JSDoc (web/tsconfig.json: checkJs, strict, noEmit)
lint-web: web/node_modules/.package-lock.json
	web/node_modules/.bin/tsc --noEmit -p web

# staticcheck at STATICCHECK_VERSION, installed when missing or of another version.
staticcheck:
	@$(STATICCHECK) -version 2>/dev/null | grep -qF '($(STATICCHECK_VERSION:v%=%))' || \
		{ echo "installing staticcheck $(STATICCHECK_VERSION) into $(GOBIN_DIR)"; \
		  GOBIN=$(GOBIN_DIR) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION); }

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
