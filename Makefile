# Vigie — make help lists the targets.
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
BIN      := bin/vigie

.PHONY: help build test vet unit e2e demo bench lint cross fuzz clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

build: ## build bin/vigie
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/vigie

test: vet unit e2e ## go vet, unit tests with -race, end-to-end tests

vet: ## go vet
	$(GO) vet ./...
	$(GO) vet -tags e2e ./cmd/vigie

unit: ## unit tests with the race detector
	$(GO) test -race -count=1 ./...

e2e: ## end-to-end tests: real daemon and CLI processes on a simulated modem
	$(GO) test -tags e2e -count=1 -timeout 5m ./cmd/vigie

demo: build ## the whole system on a simulated modem, telling what happens
	./$(BIN) demo

bench: ## Go benchmarks, then the delivery engine's figures (BENCHFLAGS='-only c' for one)
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 300ms ./modem ./gateway/render
	$(GO) run ./cmd/vigie-bench $(BENCHFLAGS)

fuzz: ## run each fuzz target for a short while
	@for p in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$p | grep '^Fuzz'); do \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime 10s $$p || exit 1; \
	  done; \
	done

lint: vet ## gofmt and go vet
	@test -z "$$(gofmt -l .)" || (gofmt -l . && false)

cross: ## static binaries for linux amd64, arm64, armv7
	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/vigie-linux-amd64 ./cmd/vigie
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/vigie-linux-arm64 ./cmd/vigie
	CGO_ENABLED=0 GOOS=linux GOARCH=arm GOARM=7 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/vigie-linux-armv7 ./cmd/vigie

clean: ## remove build output
	rm -rf bin
