# bt-dr-ffi: the C API (cbindgen header, pkg-config, C tests, valgrind) and the uniffi exports.
# Included by the root Makefile, which defines ROOT, CARGO, CARGO_TARGET_DIR and SIM_BIN.
#
#   make test-c       everything below, in order
#   make c-header     regenerate bt-dr-ffi/include/bt_dr.h (commit the result)
#   make c-lib        build libbt_dr and the install prefixes target/bt-dr-c/{shared,static}
#   make c-uniffi     generate the Kotlin and Swift bindings into target/bt-dr-c/bindings

FFI_DIR := $(ROOT)/bt-dr-ffi
FFI_OUT := $(CARGO_TARGET_DIR)/bt-dr-c
FFI_TOOLS := $(CARGO_TARGET_DIR)/tools
CBINDGEN_VERSION := 0.29.4
CBINDGEN := $(FFI_TOOLS)/bin/cbindgen
FFI_LIB_DIR := $(CARGO_TARGET_DIR)/debug
FFI_NATIVE_LIBS := $(FFI_OUT)/native-static-libs.txt
UNIFFI_BINDGEN := $(CARGO_TARGET_DIR)/debug/uniffi-bindgen

.PHONY: test-c c-tools c-header c-header-check c-lib c-uniffi

test-c: sim c-header-check c-lib
	SIM_BIN="$(SIM_BIN)" FFI_DIR="$(FFI_DIR)" FFI_OUT="$(FFI_OUT)" \
	  CARGO_TARGET_DIR="$(CARGO_TARGET_DIR)" sh $(FFI_DIR)/tests/c/run-tests.sh
	$(MAKE) --no-print-directory c-uniffi
	@echo "c: all suites passed"

# cbindgen, pinned, installed once into target/tools (about a minute).
c-tools:
	@if ! "$(CBINDGEN)" --version 2>/dev/null | grep -qx "cbindgen $(CBINDGEN_VERSION)"; then \
	  echo "c: installing cbindgen $(CBINDGEN_VERSION) into $(FFI_TOOLS)"; \
	  $(CARGO) install cbindgen@$(CBINDGEN_VERSION) --locked --root "$(FFI_TOOLS)"; \
	fi

c-header: c-tools
	cd $(FFI_DIR) && "$(CBINDGEN)" --quiet --config cbindgen.toml --output include/bt_dr.h src/lib.rs

# The committed header must be exactly what cbindgen makes of the sources.
c-header-check: c-tools
	@tmp=$$(mktemp) && trap 'rm -f "$$tmp"' EXIT && \
	  cd $(FFI_DIR) && "$(CBINDGEN)" --quiet --config cbindgen.toml --output "$$tmp" src/lib.rs && \
	  if diff -u include/bt_dr.h "$$tmp"; then echo "c: include/bt_dr.h matches the sources"; \
	  else echo "c: include/bt_dr.h is out of date: run 'make c-header' and commit it" >&2; exit 1; fi

# The library, and two install prefixes with the header and a pkg-config file each: shared
# (libbt_dr.so) and static (libbt_dr.a; Libs.private from rustc --print native-static-libs,
# asked once and cached until Cargo.lock changes).
c-lib:
	$(CARGO) build -p bt-dr-ffi
	@mkdir -p $(FFI_OUT)
	@if [ ! -s "$(FFI_NATIVE_LIBS)" ] || [ "$(ROOT)/Cargo.lock" -nt "$(FFI_NATIVE_LIBS)" ]; then \
	  echo "c: asking rustc for the native libraries of the static library"; \
	  $(CARGO) rustc -p bt-dr-ffi --lib --crate-type staticlib -- --print native-static-libs 2>&1 \
	    | sed -n 's/^note: native-static-libs: //p' | tail -n 1 > "$(FFI_NATIVE_LIBS).tmp"; \
	  if [ ! -s "$(FFI_NATIVE_LIBS).tmp" ]; then \
	    echo "c: rustc printed no native-static-libs" >&2; rm -f "$(FFI_NATIVE_LIBS).tmp"; exit 1; fi; \
	  mv "$(FFI_NATIVE_LIBS).tmp" "$(FFI_NATIVE_LIBS)"; \
	fi
	@version=$$($(CARGO) pkgid -p bt-dr-ffi | sed 's/.*[#@]//'); \
	libs=$$(cat "$(FFI_NATIVE_LIBS)"); \
	for kind in shared static; do \
	  p="$(FFI_OUT)/$$kind"; \
	  mkdir -p "$$p/include" "$$p/lib/pkgconfig"; \
	  cp $(FFI_DIR)/include/bt_dr.h "$$p/include/"; \
	  sed -e "s|@PREFIX@|$$p|" -e "s|@VERSION@|$$version|" -e "s|@LIBS_PRIVATE@|$$libs|" \
	    $(FFI_DIR)/bt_dr.pc.in > "$$p/lib/pkgconfig/bt_dr.pc"; \
	done; \
	ln -sf "$(FFI_LIB_DIR)/libbt_dr.so" "$(FFI_OUT)/shared/lib/libbt_dr.so"; \
	ln -sf "$(FFI_LIB_DIR)/libbt_dr.a" "$(FFI_OUT)/static/lib/libbt_dr.a"; \
	echo "c: prefixes $(FFI_OUT)/shared and $(FFI_OUT)/static (bt_dr $$version; Libs.private: $$libs)"

# Kotlin and Swift bindings from the built library (library mode, offline, unformatted: there
# is no ktlint, swiftformat, kotlinc or swiftc here, so generation is the check). The uniffi CLI
# is a separate crate behind the `cli` feature, built only here (about three minutes, once).
c-uniffi:
	$(CARGO) build -p bt-dr-uniffi-bindgen --features cli --bin uniffi-bindgen
	rm -rf $(FFI_OUT)/bindings
	for lang in kotlin swift; do \
	  CARGO_NET_OFFLINE=true "$(UNIFFI_BINDGEN)" generate --library "$(FFI_LIB_DIR)/libbt_dr.so" \
	    --language $$lang --out-dir "$(FFI_OUT)/bindings/$$lang" --no-format || exit 1; \
	done
	@kt=$$(find $(FFI_OUT)/bindings/kotlin -name '*.kt' | head -n 1); \
	sw=$(FFI_OUT)/bindings/swift/bt_dr.swift; \
	for f in "$$kt" "$$sw"; do test -s "$$f" || { echo "c: uniffi generated no $$f" >&2; exit 1; }; done; \
	for name in checkHealth runBackupSet executeFailover BtDrException; do \
	  grep -q "$$name" "$$kt" || { echo "c: $$name missing from the Kotlin bindings" >&2; exit 1; }; done; \
	for name in checkHealth runBackupSet executeFailover BtDrError; do \
	  grep -q "$$name" "$$sw" || { echo "c: $$name missing from the Swift bindings" >&2; exit 1; }; done; \
	echo "c: uniffi bindings in $(FFI_OUT)/bindings: $$kt, $$sw"

# Cross-binding conformance (issue 15): the same case table through Python, Node and C, compared
# with one golden JSON file per case (tests/conformance/README.md). Lives here because the C
# driver is built against the C prefix; it needs the wheel and the Node addon too.
CONFORMANCE_DIR := $(ROOT)/tests/conformance
CONFORMANCE_C := $(FFI_OUT)/bin/conformance

.PHONY: test-conformance

test-conformance: sim py-wheel node-build c-lib
	@mkdir -p $(FFI_OUT)/bin
	PKG_CONFIG_PATH=$(FFI_OUT)/shared/lib/pkgconfig; export PKG_CONFIG_PATH; \
	  $${CC:-cc} -std=c11 -Wall -Wextra -Werror -pedantic -g $(FFI_DIR)/tests/c/conformance.c \
	  -o $(CONFORMANCE_C) $$(pkg-config --cflags --libs bt_dr) \
	  -Wl,-rpath,"$$(pkg-config --variable=libdir bt_dr)"
	BT_DR_SIM_BIN=$(SIM_BIN) BT_DR_CONFORMANCE_C=$(CONFORMANCE_C) \
	  $(PY) $(CONFORMANCE_DIR)/run.py
