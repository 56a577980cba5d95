# Benchmarks (issue 8): the library against the tools users would otherwise use.
# `make bench` (release builds, several minutes) writes target/bench/{download,sweep,certs,parsers}.json
# and prints the tables; `make bench-smoke` runs a tiny version of each (debug, well under a minute
# once built) to keep them working. Results and how to read them: BENCHMARKS.md.

BENCH_DIR := $(CARGO_TARGET_DIR)/bench
BENCH_VENV := $(BENCH_DIR)/venv
BENCH_PY := $(BENCH_VENV)/bin/python
BENCH_REL := $(CARGO_TARGET_DIR)/release
BENCH_DBG := $(CARGO_TARGET_DIR)/debug
BENCH_SCRIPTS := $(ROOT)/bench/scripts
BENCH_SMOKE := $(BENCH_DIR)/smoke
# The simulator the download rows talk to (release for `make bench`).
BENCH_SIM_REL := $(BENCH_REL)/bt-dr-sim

.PHONY: bench bench-smoke bench-tools bench-venv bench-build bench-python \
	bench-download bench-sweep bench-certs bench-parsers bench-import bench-summary \
	bench-fleet bench-job bench-verify bench-scale-smoke

bench: bench-machine bench-parsers bench-certs bench-sweep bench-fleet bench-job bench-verify bench-download bench-import bench-summary

# What the numbers were measured on, first: CPU model, cores, the flags the download's hashing
# and TLS depend on, and the load (every JSON file records the same under "machine").
.PHONY: bench-machine
bench-machine:
	@echo "bench: CPU $$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)," \
		"$$(nproc) cores, flags: $$(grep -m1 '^flags' /proc/cpuinfo | grep -o -w -E 'sha_ni|aes|avx2|avx512f|vaes' | tr '\n' ' ')" \
		"load average $$(cut -d' ' -f1-3 /proc/loadavg)"

# `import bt_dr` (release wheel) over a bare interpreter, next to `import json` and
# `import requests` in the same run.
bench-import: bench-python
	@[ -f $(BENCH_DIR)/python-bt-dr.missing ] && echo "bench-import: not run ($$(cat $(BENCH_DIR)/python-bt-dr.missing))" \
		|| $(BENCH_PY) $(BENCH_SCRIPTS)/import_time.py --runs 20

# GNU time (peak RSS), curl, sha256sum and openssl are the peers' tools.
bench-tools:
	@if [ ! -x /usr/bin/time ]; then \
		echo "bench: installing GNU time"; \
		apt-get install -y time >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y time >/dev/null; }; \
	fi
	@for t in curl sha256sum openssl; do command -v $$t >/dev/null || { echo "bench: $$t is missing"; exit 1; }; done

# A venv of our own for the Python peers (requests) and for the release build of bt_dr.
bench-venv:
	@mkdir -p $(BENCH_DIR)
	@[ -x $(BENCH_PY) ] || python3 -m venv $(BENCH_VENV)
	@$(BENCH_PY) -c "import requests" 2>/dev/null || $(BENCH_PY) -m pip install -q "requests>=2.32,<3"

bench-build:
	$(CARGO) build --release -p bt-dr-bench -p bt-dr-sim --bins

# Release wheel of the Python package into the bench venv. If it cannot be built (yet), the
# reason is recorded and the download benchmark reports the row as "not run".
bench-python: bench-venv
	@rm -f $(BENCH_DIR)/python-bt-dr.missing
	@$(BENCH_PY) -c "import maturin" 2>/dev/null || $(BENCH_PY) -m pip install -q "maturin>=1.16,<2"
	@rm -rf $(BENCH_DIR)/wheels
	@if $(BENCH_VENV)/bin/maturin build --release -q -m $(ROOT)/bt-dr-py/Cargo.toml \
			-i $(BENCH_PY) -o $(BENCH_DIR)/wheels >$(BENCH_DIR)/python-build.log 2>&1 \
		&& $(BENCH_PY) -m pip install -q --force-reinstall --no-deps $(BENCH_DIR)/wheels/*.whl \
		&& $(BENCH_PY) -c "import bt_dr; bt_dr.Client.download_backup" 2>>$(BENCH_DIR)/python-build.log; then \
		echo "bench: bt_dr release wheel installed in $(BENCH_VENV)"; \
	else \
		echo "the bt_dr package could not be built or imported (see target/bench/python-build.log)" >$(BENCH_DIR)/python-bt-dr.missing; \
		echo "bench: bt_dr not available, its row will be 'not run' (target/bench/python-build.log)"; \
	fi

# Files land on disk under target/bench (the measurement the targets apply to), then, as a
# diagnostic without the disk, on tmpfs (/dev/shm) when there is one.
BENCH_TMPFS := /dev/shm/bt-dr-bench-$(shell id -u)
bench-download: bench-tools bench-build bench-python
	@if [ -f $(BENCH_DIR)/python-bt-dr.missing ]; then \
		py=(--python-bt-dr-missing "$$(cat $(BENCH_DIR)/python-bt-dr.missing)"); \
	else py=(--python-bt-dr $(BENCH_PY)); fi; \
	common=(--sim $(BENCH_SIM_REL) --download-bin $(BENCH_REL)/bt-dr-bench-download \
		--scripts $(BENCH_SCRIPTS) --python-requests $(BENCH_PY) "$${py[@]}"); \
	$(BENCH_REL)/bt-dr-bench download "$${common[@]}" --label disk \
		--work $(BENCH_DIR)/download-work --out $(BENCH_DIR)/download.json && \
	if [ -d /dev/shm ] && [ -w /dev/shm ]; then \
		$(BENCH_REL)/bt-dr-bench download "$${common[@]}" --label tmpfs \
			--work $(BENCH_TMPFS) --out $(BENCH_DIR)/download-tmpfs.json; \
	fi

# The target run (10 appliances per account), then a run where each account serves 100
# appliances: 200 requests per account must take ≥ 9 s at 20 requests/s if the limit is kept.
bench-sweep: bench-build
	ulimit -n 8192 2>/dev/null || true; \
	$(BENCH_REL)/bt-dr-bench sweep --out $(BENCH_DIR)/sweep.json && \
	$(BENCH_REL)/bt-dr-bench sweep --per-account 100 --reps 1 --sequential 0 \
		--out $(BENCH_DIR)/sweep-rate-limit.json

# Fleet scale (issue 16): the health sweep curve at 100 / 1,000 / 10,000 appliances (each point
# in a process of its own, the appliances in sim-host children), the nightly job over 200 sites
# at concurrency 1 / 4 / 16 / 64, and verify of a 20 × 512 MiB store (kept in
# target/bench/verify-work for later runs) against sha256sum -c. BENCHMARKS.md sections 5–7.
bench-fleet: bench-build
	$(BENCH_REL)/bt-dr-bench fleet --out $(BENCH_DIR)/fleet.json

# The job on disk, then (a diagnostic: what the store's fsyncs cost) the two highest
# concurrencies with the store on tmpfs.
BENCH_JOB_TMPFS := /dev/shm/bt-dr-bench-job-$(shell id -u)
bench-job: bench-build
	$(BENCH_REL)/bt-dr-bench job --work $(BENCH_DIR)/job-work --out $(BENCH_DIR)/job.json
	@if [ -d /dev/shm ] && [ -w /dev/shm ]; then \
		$(BENCH_REL)/bt-dr-bench job --concurrency 16,64 --work $(BENCH_JOB_TMPFS) \
			--out $(BENCH_DIR)/job-tmpfs.json && rm -rf $(BENCH_JOB_TMPFS); \
	fi

bench-verify: bench-tools bench-build
	$(BENCH_REL)/bt-dr-bench verify --scripts $(BENCH_SCRIPTS) --work $(BENCH_DIR)/verify-work \
		--out $(BENCH_DIR)/verify.json

# The same three, tiny (debug; a few seconds): part of bench-smoke.
bench-scale-smoke:
	$(BENCH_DBG)/bt-dr-bench fleet --sizes 20,60 --reps 1 --latency-ms 20 --per-host 30 \
		--out $(BENCH_SMOKE)/fleet.json
	$(BENCH_DBG)/bt-dr-bench job --sites 10 --concurrency 1,4 --latency-ms 10 \
		--work $(BENCH_SMOKE)/job-work --out $(BENCH_SMOKE)/job.json
	$(BENCH_DBG)/bt-dr-bench verify --sets 3 --size-mib 4 --reps 1 --scripts $(BENCH_SCRIPTS) \
		--work $(BENCH_SMOKE)/verify-work --out $(BENCH_SMOKE)/verify.json

bench-certs: bench-tools bench-build
	$(BENCH_REL)/bt-dr-bench certs --scripts $(BENCH_SCRIPTS) --dir $(BENCH_DIR)/p12 --out $(BENCH_DIR)/certs.json

bench-parsers: bench-build
	CRITERION_HOME=$(BENCH_DIR)/criterion $(CARGO) bench -p bt-dr-bench --bench parsers
	$(BENCH_REL)/bt-dr-bench criterion-report --criterion-dir $(BENCH_DIR)/criterion --out $(BENCH_DIR)/parsers.json

bench-summary:
	@$(BENCH_REL)/bt-dr-bench summary --dir $(BENCH_DIR)

# Tiny run of every benchmark (debug builds): a 4 MiB download with every row, 20 appliances,
# 4 bundles, each Criterion benchmark once. Results go to target/bench/smoke/.
bench-smoke: sim bench-tools bench-venv
	$(CARGO) build -p bt-dr-bench --bins
	@if $(ROOT)/.venv/bin/python -c "import bt_dr; bt_dr.Client.download_backup" 2>/dev/null; then \
		py=(--python-bt-dr $(ROOT)/.venv/bin/python); \
	else py=(--python-bt-dr-missing "bt_dr is not installed in .venv (make test-python builds it)"); fi; \
	$(BENCH_DBG)/bt-dr-bench download --sizes 4194304 --reps 1 --sim $(SIM_BIN) \
		--download-bin $(BENCH_DBG)/bt-dr-bench-download --scripts $(BENCH_SCRIPTS) \
		--work $(BENCH_SMOKE)/download-work --out $(BENCH_SMOKE)/download.json \
		--python-requests $(BENCH_PY) "$${py[@]}"
	$(BENCH_DBG)/bt-dr-bench sweep --appliances 20 --per-account 10 --reps 1 --sequential 3 \
		--out $(BENCH_SMOKE)/sweep.json
	$(BENCH_DBG)/bt-dr-bench certs --count 4 --reps 1 --scripts $(BENCH_SCRIPTS) \
		--dir $(BENCH_SMOKE)/p12 --out $(BENCH_SMOKE)/certs.json
	CRITERION_HOME=$(BENCH_SMOKE)/criterion $(CARGO) test -q -p bt-dr-bench --bench parsers
	@$(MAKE) --no-print-directory bench-scale-smoke
	@echo "bench-smoke: every benchmark ran"
