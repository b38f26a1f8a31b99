# s3pipe: build, test and release the five S3 tools.
#
#   make build    build bin/<tool> for every cmd/<tool>/main.go
#   make test     build, start two MinIO servers, go test -race ./... (GOTESTFLAGS=...)
#   make check    gofmt, go vet, staticcheck, go mod tidy -diff
#   make fuzz     run every Fuzz* target for FUZZTIME (default 30s) each
#   make soak     the reliability tests at soak size (kills, fault matrix)
#   make bench    benchmarks against MinIO, output in bench.out (BENCHFLAGS=...)
#   make demo     build and run scripts/demo
#   make dist     static linux/amd64 and linux/arm64 tarballs + SHA256SUMS in dist/
#   make clean    remove bin/, dist/ and bench.out

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
# Evaluate git describe once, not once per use (a commit landing mid-build
# would otherwise give the binaries different versions).
VERSION := $(VERSION)
GO ?= go
BIN = bin
DIST = dist
FUZZTIME ?= 30s
GOTESTFLAGS ?=
BENCHFLAGS ?=
# Newest staticcheck release, built with and supporting Go 1.26.
STATICCHECK_VERSION ?= v0.8.2
DIST_ARCHES = amd64 arm64

CMDS = $(wildcard cmd/*)
# Only the cmd dirs that have a main.go yet.
MAIN_CMDS = $(patsubst %/main.go,%,$(wildcard $(addsuffix /main.go,$(CMDS))))
TOOLS = $(notdir $(MAIN_CMDS))
LDFLAGS = -s -w -X main.version=$(VERSION)

export GO
export GOTESTFLAGS BENCHFLAGS FUZZTIME
export S3PIPE_BIN = $(CURDIR)/$(BIN)

.DEFAULT_GOAL := build

.PHONY: all build test soak check fmt-check vet staticcheck tidy-check fuzz bench demo dist clean FORCE

all: check build test

build: $(addprefix $(BIN)/,$(TOOLS))

# Always hand over to go build: its cache decides what is stale.
$(BIN)/%: FORCE
	@mkdir -p $(BIN)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $@ ./cmd/$*

FORCE:

test: build
	scripts/test-integration

check: fmt-check vet staticcheck tidy-check

fmt-check:
	@out="$$(find . -name '*.go' -not -path './.git/*' -not -path '*/testdata/*' -print0 | xargs -0 -r gofmt -l)"; \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

staticcheck:
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

# go mod tidy -diff prints what tidy would change and fails if anything
# would, without touching go.mod or go.sum.
tidy-check:
	$(GO) mod tidy -diff

fuzz:
	scripts/fuzz

# The reliability tests at a larger size: 40 kill seeds, 2,000 objects per
# fault rate (see docs/RELIABILITY.md).
soak: build
	S3PIPE_SOAK=1 S3PIPE_FAULT_OBJECTS=$${S3PIPE_FAULT_OBJECTS:-2000} \
		GOTESTFLAGS="-run=TestKill|TestFault|TestThrottle -timeout=120m $(GOTESTFLAGS)" scripts/test-integration

bench: build
	scripts/bench

demo: build
	scripts/demo

dist:
	@rm -rf $(DIST)
	@for arch in $(DIST_ARCHES); do \
		name=s3pipe-$(VERSION)-linux-$$arch; \
		stage=$(DIST)/.stage/$$name; \
		mkdir -p $$stage; \
		for tool in $(TOOLS); do \
			echo "build $$name/$$tool"; \
			CGO_ENABLED=0 GOOS=linux GOARCH=$$arch $(GO) build -trimpath -ldflags "$(LDFLAGS)" \
				-o $$stage/$$tool ./cmd/$$tool; \
		done; \
		if [ -f README.md ]; then cp README.md $$stage/; else echo "warning: no README.md" >&2; fi; \
		if [ -d docs ]; then cp -R docs $$stage/; else echo "warning: no docs/" >&2; fi; \
		tar -C $(DIST)/.stage --sort=name --owner=0 --group=0 --numeric-owner \
			--mtime='@0' -cf - $$name | gzip -n -9 > $(DIST)/$$name.tar.gz; \
	done
	@rm -rf $(DIST)/.stage
	cd $(DIST) && sha256sum *.tar.gz > SHA256SUMS
	@cat $(DIST)/SHA256SUMS

clean:
	rm -rf $(BIN) $(DIST) bench.out
