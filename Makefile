# Vigie — make help lists the targets.
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
BIN      := bin/vigie
UNIT     ?= systemd/vigie.service

.PHONY: help build test vet unit e2e soak soak-plot demo bench lint cross fuzz clean
.PHONY: analyze test-system test-system-arm
.PHONY: cross-amd64 cross-arm64 cross-armv7 deb deb-amd64 deb-arm64 deb-armhf man completions test-arm64

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## build bin/vigie
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/vigie

test: vet unit e2e analyze test-arm64 test-system ## go vet, unit tests with -race, end-to-end tests, unit hardening, arm64 tests under qemu, the .deb under systemd

vet: ## go vet
	$(GO) vet ./...
	$(GO) vet -tags e2e ./cmd/vigie
	$(GO) vet -tags vigie_testclock ./cmd/vigie

# -parallel 8: most tests wait on a simulated modem at its real timing
# (boot lines, SMS-not-ready windows), not on the CPU.
unit: ## unit tests with the race detector
	$(GO) test -race -count=1 -parallel 8 ./...
	$(GO) test -race -count=1 -tags vigie_testclock -run 'TestTestClock' ./cmd/vigie

e2e: ## end-to-end tests: real daemon and CLI processes on a simulated modem
	$(GO) test -tags e2e -count=1 -timeout 10m ./cmd/vigie

# The e2e target runs the soak's short form (TestSoak without VIGIE_SOAK);
# this one runs the full years, each well under 20 min, keeps their
# monthly tables in soak-out/year.txt and soak-out/bad.txt, and draws them
# (soak-plot). The bad year's inbound SMS are a tenth of the issue's
# 100,000, to stay under 20 min; SOAK_INBOUND=274 gives them all (about an
# hour on 2 cores).
SOAK_OUT := soak-out
CHROMIUM ?= chromium
soak: ## a year of the scheme in compressed time on the real daemon, ordinary then bad (issue #15): a table per month, and their plot
	@mkdir -p $(SOAK_OUT)
	VIGIE_SOAK=year VIGIE_SOAK_OUT=$(CURDIR)/$(SOAK_OUT)/year.txt $(GO) test -tags e2e -count=1 -timeout 30m -run '^TestSoak$$' -v ./cmd/vigie
	VIGIE_SOAK=bad VIGIE_SOAK_INBOUND=$(SOAK_INBOUND) VIGIE_SOAK_OUT=$(CURDIR)/$(SOAK_OUT)/bad.txt $(GO) test -tags e2e -count=1 -timeout 120m -run '^TestSoak$$' -v ./cmd/vigie
	$(MAKE) soak-plot

# The SVG from the tables (cmd/vigie-soakplot), then its PNG by headless
# Chromium, as the reports' print test drives it (gateway/reportdoc/printtest).
soak-plot: ## database size and RSS per month of soak-out/year.txt and bad.txt, as soak-out/soak.svg and soak.png
	$(GO) run ./cmd/vigie-soakplot -o $(SOAK_OUT)/soak.svg $(SOAK_OUT)/year.txt $(SOAK_OUT)/bad.txt
	timeout 60 $(CHROMIUM) --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run \
	  --user-data-dir=$(CURDIR)/$(SOAK_OUT)/chromium-profile --window-size=1200,700 \
	  --screenshot=$(CURDIR)/$(SOAK_OUT)/soak.png file://$(CURDIR)/$(SOAK_OUT)/soak.svg
	@rm -rf $(SOAK_OUT)/chromium-profile

demo: build ## the whole system on a simulated modem, telling what happens (MODEM=quectel, sim7600…)
	./$(BIN) demo --modem $(or $(MODEM),generic)

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

cross: cross-amd64 cross-arm64 cross-armv7 ## static binaries bin/vigie-linux-{amd64,arm64,armv7}

# cross-X builds bin/vigie-linux-X; deb-Y packs the binary of its Debian
# architecture Y with the man pages and completions (systemd/nfpm.yaml).
goenv_amd64 := GOARCH=amd64
goenv_arm64 := GOARCH=arm64
goenv_armv7 := GOARCH=arm GOARM=7
cross-amd64 cross-arm64 cross-armv7: cross-%:
	CGO_ENABLED=0 GOOS=linux $(goenv_$*) $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/vigie-linux-$* ./cmd/vigie

# Debian version from git describe: v1.2.0 → 1.2.0, v1.2.0-3-gabc → 1.2.0+3.gabc,
# an untagged abc1234 → 0.0.0+gabc1234; a dirty tree adds .dirty.
DEB_VERSION ?= $(shell echo '$(VERSION)' | sed -E 's/^v//; s/^([0-9][^-]*)-([0-9]+)-g/\1+\2.g/; s/-dirty$$/.dirty/; /^[0-9]+\.[0-9]/!s/^/0.0.0+g/')
# Dates in the man pages and the .deb archives: the last commit's, so that
# two builds of one commit give the same files.
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)

deb: deb-amd64 deb-arm64 deb-armhf ## .deb packages for amd64, arm64, armhf in bin/deb (nfpm)
binarch_amd64 := amd64
binarch_arm64 := arm64
binarch_armhf := armv7
deb-amd64: cross-amd64
deb-arm64: cross-arm64
deb-armhf: cross-armv7
deb-amd64 deb-arm64 deb-armhf: deb-%: man completions
	@mkdir -p bin/deb
	SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) DEB_ARCH=$* VIGIE_BIN=bin/vigie-linux-$(binarch_$*) DEB_VERSION='$(DEB_VERSION)' \
	  $(GO) tool nfpm package --config systemd/nfpm.yaml --packager deb --target bin/deb/

man: build ## man pages, gzipped as packaged, in bin/man (man -l bin/man/vigie.1.gz, bin/man/vigie.toml.5.gz)
	rm -rf bin/man
	SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) ./$(BIN) gendocs --man bin/man
	gzip -9n bin/man/*.1 bin/man/*.5

completions: build ## bash, zsh and fish completion scripts in bin/completions
	rm -rf bin/completions
	./$(BIN) gendocs --completions bin/completions

# The store's, gateway's and modem's tests built for arm64 and run under
# qemu-user: the byte order, alignment, mmap and serial ioctls of a
# Raspberry Pi (without -race, which needs cgo). qemu-user does not pass
# TIOCGEXCL on, so the exclusive-port check cannot be seen there.
ARM64_TESTS := ./store/... ./gateway/... ./modem/...
# TestProbe/port_held and the sim's exclusivity tests need the TIOCGEXCL
# ioctl, which qemu-user does not pass to the host kernel (ENOSYS); they run
# natively in `unit`, and a real arm64 kernel has the ioctl.
test-arm64: ## store, gateway and modem tests built for arm64, run under qemu-aarch64
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) test -count=1 -parallel 8 -exec qemu-aarch64 -skip 'TestProbe/port_held|TestKilledClientGivesThePortBack|TestLiveClientKeepsThePort' $(ARM64_TESTS)

# Root, debootstrap and systemd-nspawn (systemd-container); skipped without
# them unless CI is set. The debootstrapped root is cached outside CI.
test-system: deb-amd64 ## the amd64 .deb installed and used in a Debian bookworm booted by systemd-nspawn
	systemd/system-test.sh bin/deb/vigie_$(DEB_VERSION)_amd64.deb

# Not in test: a few minutes of setup and several per architecture. Needs
# qemu-system-arm, qemu-user-static with binfmt handlers, e2fsprogs.
test-system-arm: deb-arm64 deb-armhf ## the system test's checks on arm64 and armhf (armv7 kernel), full-system emulation with Debian's kernels
	systemd/system-test-arm.sh arm64 bin/deb/vigie_$(DEB_VERSION)_arm64.deb
	systemd/system-test-arm.sh armhf bin/deb/vigie_$(DEB_VERSION)_armhf.deb

analyze: ## systemd-analyze security of systemd/vigie.service; fails above 2.0
	@out="$$(systemd-analyze security --offline=true --no-pager $(UNIT) 2>&1)" || { echo "$$out"; exit 1; }; \
	echo "$$out" | awk '/Overall exposure level/ { print; found = 1; if (match($$0, /: [0-9.]+ /) && substr($$0, RSTART + 2, RLENGTH - 3) + 0 <= 2.0) ok = 1 } \
	  END { if (!found) print "no exposure level in systemd-analyze output"; if (!ok) { print "exposure above 2.0"; exit 1 } }'

clean: ## remove build output
	rm -rf bin
