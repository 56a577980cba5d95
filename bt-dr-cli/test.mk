# bt-dr-cli: `bt-dr metrics` against the real Prometheus tools (promtool, a Prometheus server).
# Included by the root Makefile, which defines ROOT, CARGO, CARGO_TARGET_DIR, SIM_BIN and `sim`.
#
#   make test-prometheus   promtool check metrics on textfiles written against the simulator
#                          (the e2e tests, with a backup set, and the script), promtool check /
#                          test rules on examples/monitoring, and a real Prometheus server
#                          scraping `bt-dr metrics serve` (tests/prometheus/run.sh)

CLI_DIR := $(ROOT)/bt-dr-cli
BT_DR_BIN := $(CARGO_TARGET_DIR)/debug/bt-dr
MONITORING_EXAMPLES := $(ROOT)/examples/monitoring

.PHONY: test-prometheus prometheus-tools

# promtool and prometheus from the Debian package when missing (as root only; otherwise say
# what is missing and fail). Debian's own service may start after the install: the tests never
# use it (their server gets its own data dir and a free random port).
prometheus-tools:
	@if command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1; then \
	  echo "prometheus: $$(promtool --version 2>&1 | head -n1)"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "prometheus: installing the Debian prometheus package"; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y prometheus \
	    || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y prometheus; }; \
	else \
	  echo "prometheus: promtool and prometheus are needed (Debian/Ubuntu: apt-get install prometheus);" \
	       "not root or no apt-get here, so they cannot be installed for you" >&2; \
	  exit 1; \
	fi

test-prometheus: prometheus-tools sim
	$(CARGO) build -p bt-dr-cli --bin bt-dr
	BT_DR_PROMTOOL="$$(command -v promtool)" $(CARGO) test -p bt-dr-cli --test cli -- metrics_e2e::
	BT_DR_BIN="$(BT_DR_BIN)" SIM_BIN="$(SIM_BIN)" EXAMPLES="$(MONITORING_EXAMPLES)" \
	  PROMTOOL="$$(command -v promtool)" PROMETHEUS="$$(command -v prometheus)" \
	  bash $(ROOT)/tests/prometheus/run.sh
	@echo "prometheus: all suites passed"
