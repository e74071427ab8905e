# Kosh — the front door. Every target is a few lines; read them.
#
#   make build      koshd, koshcli, koshverify into .build/bin
#   make test       everything CI runs: gen-check, lint, vet, unit tests on
#                   SQLite and PostgreSQL, race detector, integration tests
#                   against real btcd and lnd (built from the module proxy),
#                   a short SIGKILL torture (make torture, 3 rounds per store)
#   make itest      only the integration tests
#   make torture    SIGKILL koshd under load, TORTURE_ROUNDS (default 20) rounds
#                   per store (SQLite, PostgreSQL); make test runs 3
#   make gen        regenerate api/ from the protos with pinned local plugins
#   make demo       the regtest demo (btcd + 2 lnd + koshd on loopback)
#   make demo-check koshverify + headless Chromium on the running demo
#   make bench      benchmarks; the anchor walk over BENCH_ANCHORS (default 1000)
#                   anchors
#   make fuzz       every fuzz target for FUZZTIME (default 20000x: executions) each
#   make screenshots  the public page at desktop and phone width, in screenshots/

SHELL := /bin/bash
GO ?= go
BIN := $(CURDIR)/.build/bin
export PATH := $(BIN):$(PATH)

# Pinned code generators, checked to build together (2026-11) with what
# go.mod pins (lnd v0.21.3-beta, grpc v1.84, grpc-gateway/v2 v2.33.0):
#  - protoc-gen-go must be v1.33.0, the version of lnd's protobuf-go fork
#    that go.mod's replace selects (lnrpc needs the fork); code generated
#    by another version does not compile against it.
#  - buf runs local plugins only (buf.gen.yaml) and the protos use no BSR
#    dependency: the only network is the package registries. HTTP routes
#    live in the grpc-gateway service config api/kosh/v1/kosh.yaml, as
#    lnd's lnrpc/*.yaml do, not in google/api/annotations.proto.
#  - Generated code is committed; make gen-check fails on any difference.
BUF_VERSION := v1.75.0
PROTOC_GEN_GO_VERSION := v1.33.0
PROTOC_GEN_GO_GRPC_VERSION := v1.5.1
GRPC_GATEWAY_VERSION := v2.33.0
# staticcheck for make lint (its checks: staticcheck.conf). v0.8.x is the
# release line for Go 1.26.
STATICCHECK_VERSION := v0.8.2

UNIT_PKGS = $(shell $(GO) list ./... | grep -v /itest)

.PHONY: build tools staticcheck gen gen-check lint vet chromium unit race fuzz nodes itest torture torture-short test bench screenshots demo demo-stop clean

build:
	GOBIN=$(BIN) $(GO) install ./cmd/...

# Generators, installed once per version into .build/bin.
tools: $(BIN)/.tools-$(BUF_VERSION)-$(PROTOC_GEN_GO_VERSION)-$(PROTOC_GEN_GO_GRPC_VERSION)-$(GRPC_GATEWAY_VERSION)
$(BIN)/.tools-%:
	mkdir -p $(BIN)
	GOBIN=$(BIN) $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)
	GOBIN=$(BIN) $(GO) install google.golang.org/grpc/cmd/protoc-gen-go-grpc@$(PROTOC_GEN_GO_GRPC_VERSION)
	GOBIN=$(BIN) $(GO) install github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-grpc-gateway@$(GRPC_GATEWAY_VERSION) \
		github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-openapiv2@$(GRPC_GATEWAY_VERSION)
	GOBIN=$(BIN) $(GO) install github.com/bufbuild/buf/cmd/buf@$(BUF_VERSION)
	touch $@

# staticcheck, installed once per version into .build/bin.
staticcheck: $(BIN)/.staticcheck-$(STATICCHECK_VERSION)
$(BIN)/.staticcheck-%:
	mkdir -p $(BIN)
	GOBIN=$(BIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	touch $@

gen: tools
	buf generate

# Regenerate and fail if anything under api/ changed: generated code is
# committed and must match the protos and the pinned generators.
gen-check: gen
	@if [ -n "$$(git status --porcelain -- api)" ]; then \
		git status --porcelain -- api; git diff --stat -- api; \
		echo "gen-check: regenerating api/ changed it; run 'make gen' and commit"; exit 1; fi
	@echo "gen-check: api/ is up to date"

lint: tools staticcheck
	buf lint
	staticcheck ./...
	staticcheck -tags kosh_faults ./cmd/koshd ./itest/
	@$(GO) mod tidy -diff || { echo "go mod tidy: go.mod or go.sum is not tidy (diff above); run 'go mod tidy' and commit"; exit 1; }
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1; }

vet:
	$(GO) vet ./...
	$(GO) vet -tags kosh_faults ./cmd/koshd ./itest/

# Unit tests run every store-backed suite on SQLite and on the PostgreSQL at
# KOSH_TEST_POSTGRES_DSN (default postgres://postgres@127.0.0.1:5432/test).
# CI=true makes a missing PostgreSQL or Chromium fail instead of skipping;
# these targets set it themselves, so that a run by hand cannot go green
# on SQLite alone (a bare `go test` still skips what it cannot reach).
test unit race: export CI := true

unit: chromium
	$(GO) test -count=1 $(UNIT_PKGS)

# Debian's Chromium for the browser tests in web/ (chromedp); with CI=true
# they fail rather than skip without it.
chromium:
	bash web/install-chromium.sh

# Every fuzz target, briefly: the committed seed corpora always run as unit
# tests; this explores past them. The budget is a count of executions, not a
# duration: go1.26's fuzz coordinator can report a spurious "context deadline
# exceeded" when a duration runs out (go.dev/issue/75804, fixed in go1.27).
FUZZTIME ?= 20000x
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
		dir=$$($(GO) list -f '{{.Dir}}' $$pkg); \
		for f in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$dir/*_test.go 2>/dev/null | sed 's/^func //'); do \
			echo "fuzz $$pkg $$f"; \
			$(GO) test -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZTIME) $$pkg > .build/fuzz.log 2>&1 || { cat .build/fuzz.log; exit 1; }; \
		done; \
	done

race:
	$(GO) test -count=1 -race ./ledger/... ./store/...

# btcd and lnd at the versions go.mod pins, built from the module proxy
# into .build/bin and cached there; Debian's electrum (apt), the offline
# signer TestProofOfControl proves reserves with.
nodes:
	bash itest/build-nodes.sh
	bash itest/install-electrum.sh

itest: nodes
	$(GO) test -count=1 -timeout 30m -v ./itest/... 2>&1 | tee .build/itest.log | grep -E '^(=== RUN|--- |PASS|FAIL|ok|panic)|_test.go' ; \
	rc=$${PIPESTATUS[0]}; [ $$rc -eq 0 ] || bash itest/show-failures.sh .build/itest.log; exit $$rc

# koshd (built as shipped) killed with SIGKILL under 16 concurrent clients,
# TORTURE_ROUNDS times per store, every unacknowledged key retried once,
# then the journal, balances and supply checked against every answer (see
# itest/torture/doc.go). The checker's own tests run first. Prints a table;
# fails on any lost, double-applied or mismatched operation or broken
# invariant.
TORTURE_ROUNDS ?= 20
torture: nodes
	$(GO) test -count=1 ./itest/torture/
	$(GO) run ./itest/torture -rounds $(TORTURE_ROUNDS) -stores sqlite,postgres

# What make test runs: 3 rounds per store (well under a minute).
torture-short:
	$(MAKE) torture TORTURE_ROUNDS=3

test: gen-check lint vet unit race fuzz itest torture-short

# BenchmarkAnchorWalk makes this many anchors (one block each), then walks
# them once as koshverify does: about three and a half minutes for 1000
# on 2 cores.
BENCH_ANCHORS ?= 1000

bench:
	$(GO) run ./bench/transfers -duration 10s
	$(GO) run ./bench/public -duration 10s
	$(GO) run ./bench/liabilities
	$(GO) test -run '^$$' -bench BenchmarkPage -benchtime 200x ./web/
	$(GO) test -run '^$$' -bench BenchmarkJSControl -benchtime 1x ./web/
	$(GO) test -run '^$$' -bench Compose -benchtime 3x ./attestor/
	$(GO) test -run '^$$' -bench . -skip 'ControlVerify|AnchorWalk' -benchtime 5x ./itest/
	$(GO) test -run '^$$' -bench ControlVerify -benchtime 1x -timeout 30m ./itest/
	KOSH_BENCH_ANCHORS=$(BENCH_ANCHORS) $(GO) test -run '^$$' -bench AnchorWalk -benchtime 1x -timeout 30m ./itest/

screenshots: chromium
	KOSH_SCREENSHOTS=$(CURDIR)/screenshots $(GO) test -count=1 -run TestScreenshots -v ./web/ | grep wrote

demo:
	bash deploy/regtest/demo.sh

demo-stop:
	bash deploy/regtest/demo.sh stop

# On the running demo: koshverify (with --btcd) on the attestation the page
# links to, and the page green in headless Chromium (web/install-chromium.sh).
.PHONY: demo-check
demo-check:
	bash deploy/regtest/demo.sh check

clean:
	rm -rf .build
