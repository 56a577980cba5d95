# bt-dr: one entry point for every test. `make test` installs what it needs by itself
# (Python venv, npm packages, cbindgen) so it works on a fresh machine and in CI.
# Each binding keeps its targets in its own folder (test.mk) next to its code.

SHELL := /bin/bash
CARGO ?= cargo
ROOT := $(abspath .)
export CARGO_TERM_COLOR ?= never
export CARGO_TARGET_DIR ?= $(ROOT)/target
SIM_BIN := $(CARGO_TARGET_DIR)/debug/bt-dr-sim

.PHONY: test test-rust lint fmt-check clippy quickstart sim

test: lint check-generated test-rust test-python test-node test-c test-conformance test-prometheus bench-smoke
	@echo "make test: all suites passed"

lint: fmt-check clippy

fmt-check:
	$(CARGO) fmt --all -- --check

clippy:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

test-rust:
	$(CARGO) test --workspace

# The simulator binary every non-Rust suite starts as a subprocess.
sim:
	$(CARGO) build -p bt-dr-sim --bin bt-dr-sim

quickstart:
	$(CARGO) run --example quickstart

include bt-dr-py/test.mk
include bt-dr-node/test.mk
include bt-dr-ffi/test.mk
include bt-dr-cli/test.mk
include tools/generated.mk
include bench/bench.mk
include fuzz/fuzz.mk
