# Fuzzing (cargo-fuzz, nightly). Included from the top Makefile; see FUZZING.md.
#
#   make fuzz                      every target for FUZZ_SECONDS each, then a table of execs/crashes
#   make fuzz FUZZ_SECONDS=600 FUZZ_TARGETS="xml names"
#   make fuzz-cmin                 minimise fuzz/corpus/* (run after a long campaign)
#   make fuzz-seeds                write the hand-made seeds again (needs python3 and openssl)
#
# One process, one job, one worker per target (the machine is shared); no sanitizer (`-s none`:
# the code is safe Rust, and a panic is what we look for) but debug assertions on (`-a`), so an
# integer overflow is a crash too. The crate builds into fuzz/target (never the workspace's
# target), and every crash input lands in fuzz/artifacts/<target>/: copy it to
# fuzz/regressions/<target>/ so `make test` replays it (bt-dr-core/tests/fuzz_regressions.rs).

FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= xml headers file_name names documents p12 verify pair
FUZZ_BUILD_FLAGS ?= -s none -a
# Extra libFuzzer flags, e.g. FUZZ_ARGS="-max_len=4096".
FUZZ_ARGS ?=
FUZZ_NIGHTLY ?= +nightly
FUZZ_DIR := $(ROOT)/fuzz
FUZZ_TRIPLE := $(shell rustc -vV 2>/dev/null | sed -n 's/^host: //p')
FUZZ_BIN := $(FUZZ_DIR)/target/$(FUZZ_TRIPLE)/release
FUZZ_LOGS := $(FUZZ_DIR)/target/logs
# cargo-fuzz must not build into the workspace's target folder (the top Makefile exports it).
FUZZ_ENV := env -u CARGO_TARGET_DIR RUSTFLAGS="$(RUSTFLAGS)"

.PHONY: fuzz fuzz-install fuzz-build fuzz-run fuzz-cmin fuzz-seeds

fuzz-install:
	@rustup toolchain list 2>/dev/null | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
	@command -v cargo-fuzz >/dev/null 2>&1 || $(CARGO) install cargo-fuzz --locked

fuzz-build: fuzz-install
	cd $(FUZZ_DIR) && $(FUZZ_ENV) $(CARGO) $(FUZZ_NIGHTLY) fuzz build $(FUZZ_BUILD_FLAGS)

fuzz: fuzz-build
	@$(MAKE) --no-print-directory fuzz-run

# Runs the built targets and prints one row per target. libFuzzer runs in jobs mode
# (-jobs=1 -workers=1): its output goes to $(FUZZ_LOGS)/<target>/fuzz-0.log.
fuzz-run:
	@set -u; fail=0; rows=""; \
	for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_LOGS)/$$t $(FUZZ_DIR)/artifacts/$$t $(FUZZ_DIR)/corpus/$$t; \
	  rm -f $(FUZZ_LOGS)/$$t/fuzz-*.log; \
	  before=$$(ls $(FUZZ_DIR)/artifacts/$$t | wc -l); \
	  echo "fuzz: $$t for $(FUZZ_SECONDS)s"; \
	  ( cd $(FUZZ_LOGS)/$$t && $(FUZZ_BIN)/$$t $(FUZZ_DIR)/corpus/$$t \
	      -artifact_prefix=$(FUZZ_DIR)/artifacts/$$t/ -max_total_time=$(FUZZ_SECONDS) \
	      -print_final_stats=1 -timeout=20 -rss_limit_mb=2048 -jobs=1 -workers=1 $(FUZZ_ARGS) \
	      > $(FUZZ_LOGS)/$$t/driver.log 2>&1 ); \
	  log=$(FUZZ_LOGS)/$$t/fuzz-0.log; [ -f $$log ] || log=$(FUZZ_LOGS)/$$t/driver.log; \
	  execs=$$(sed -n 's/^stat::number_of_executed_units: *//p' $$log | tail -1); \
	  [ -n "$$execs" ] || execs=$$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' $$log | tail -1); \
	  [ -n "$$execs" ] || execs=$$(sed -n 's/^#\([0-9]*\).*/\1/p' $$log | tail -1); \
	  secs=$$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' $$log | tail -1); \
	  [ -n "$$secs" ] || secs=$(FUZZ_SECONDS); \
	  after=$$(ls $(FUZZ_DIR)/artifacts/$$t | wc -l); crashes=$$((after - before)); \
	  [ "$$crashes" -eq 0 ] || fail=1; \
	  rate=$$(( $${execs:-0} / ($${secs:-1} > 0 ? $${secs:-1} : 1) )); \
	  rows="$$rows$$(printf '%-10s %12s %10s %8s %8s' $$t $${execs:-?} $$rate $$secs $$crashes)\n"; \
	  if [ "$$crashes" -ne 0 ]; then \
	    grep -m1 -A3 'panicked at' $$log || true; \
	    ls -t $(FUZZ_DIR)/artifacts/$$t | head -n $$crashes | sed "s|^|  crash input: fuzz/artifacts/$$t/|"; \
	  fi; \
	done; \
	echo; printf '%-10s %12s %10s %8s %8s\n' target execs exec/s seconds crashes; printf "$$rows"; \
	rm -rf /dev/shm/bt-dr-fuzz-* $${TMPDIR:-/tmp}/bt-dr-fuzz-* 2>/dev/null; \
	if [ $$fail -ne 0 ]; then \
	  echo "fuzz: crashes found: copy each input to fuzz/regressions/<target>/ and list it in fuzz/regressions/known_failures.txt until fixed"; \
	  exit 1; \
	fi

# Keeps only the corpus entries that add coverage (run after a campaign, before committing).
fuzz-cmin: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
	  echo "fuzz-cmin: $$t ($$(ls $(FUZZ_DIR)/corpus/$$t | wc -l) inputs)"; \
	  cd $(FUZZ_DIR) && $(FUZZ_ENV) $(CARGO) $(FUZZ_NIGHTLY) fuzz cmin $(FUZZ_BUILD_FLAGS) $$t corpus/$$t \
	    -- -rss_limit_mb=2048 -timeout=20 >/dev/null 2>&1 || exit 1; \
	  echo "           → $$(ls $(FUZZ_DIR)/corpus/$$t | wc -l) inputs, $$(du -sh $(FUZZ_DIR)/corpus/$$t | cut -f1)"; \
	done

fuzz-seeds:
	cd $(ROOT) && python3 fuzz/seeds/make_seeds.py && sh fuzz/seeds/make_p12_seeds.sh
