# Generated type surfaces (issue 15 item 2): one JSON Schema derived from bt-dr-core's types,
# and everything the bindings declare about those types generated from it. Included by the root
# Makefile, which defines ROOT, CARGO and CARGO_TARGET_DIR.
#
#   make generate          write them all (commit the result)
#   make check-generated   regenerate into a temp dir and diff against the committed files
#
#   schema/bt-dr.schema.json          tools/bt-dr-schema (core built with feature `schema`)
#   bt-dr-py/python/bt_dr/_model.py   bt-dr-py/scripts/gen_models.py  (+ bt-dr-py/models.toml)
#   bt-dr-py/python/bt_dr/_native.pyi bt-dr-py/scripts/gen_stubs.py   (+ scripts/_native.pyi.in)
#   bt-dr-node/types.d.ts             bt-dr-node/scripts/gen_types.py (index.d.ts re-exports it)
#
# The Python generators need Python >= 3.11 (tomllib) and nothing outside the stdlib.

GEN_PYTHON ?= python3
GEN_SCHEMA_BIN := $(CARGO_TARGET_DIR)/debug/bt-dr-schema
GEN_SCHEMA := $(ROOT)/schema/bt-dr.schema.json

.PHONY: generate check-generated gen-schema-tool

gen-schema-tool:
	$(CARGO) build -p bt-dr-schema --bin bt-dr-schema

generate: gen-schema-tool
	"$(GEN_SCHEMA_BIN)" "$(GEN_SCHEMA)"
	$(GEN_PYTHON) $(ROOT)/bt-dr-py/scripts/gen_models.py
	$(GEN_PYTHON) $(ROOT)/bt-dr-py/scripts/gen_stubs.py
	$(GEN_PYTHON) $(ROOT)/bt-dr-node/scripts/gen_types.py
	@echo "generate: schema, Python models and stubs, Node types written"

# Everything is generated afresh from the sources into a temp dir (the schema too: the files
# must match what the core's types make now, not the committed schema), then compared.
check-generated: gen-schema-tool
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	  "$(GEN_SCHEMA_BIN)" "$$tmp/bt-dr.schema.json" && \
	  $(GEN_PYTHON) $(ROOT)/bt-dr-py/scripts/gen_models.py --schema "$$tmp/bt-dr.schema.json" --target "$$tmp/_model.py" >/dev/null && \
	  $(GEN_PYTHON) $(ROOT)/bt-dr-py/scripts/gen_stubs.py --schema "$$tmp/bt-dr.schema.json" --out "$$tmp/_native.pyi" >/dev/null && \
	  $(GEN_PYTHON) $(ROOT)/bt-dr-node/scripts/gen_types.py --schema "$$tmp/bt-dr.schema.json" --out "$$tmp/types.d.ts" >/dev/null && \
	  status=0; \
	  for pair in "schema/bt-dr.schema.json:bt-dr.schema.json" \
	              "bt-dr-py/python/bt_dr/_model.py:_model.py" \
	              "bt-dr-py/python/bt_dr/_native.pyi:_native.pyi" \
	              "bt-dr-node/types.d.ts:types.d.ts"; do \
	    committed=$${pair%%:*}; fresh=$$tmp/$${pair##*:}; \
	    if ! diff -u "$(ROOT)/$$committed" "$$fresh" > "$$tmp/diff" 2>&1; then \
	      head -n 60 "$$tmp/diff"; echo "generated: $$committed is out of date" >&2; status=1; fi; \
	  done; \
	  if [ $$status -ne 0 ]; then echo "generated: run 'make generate' and commit the result" >&2; exit 1; fi; \
	  echo "generated: schema, Python models and stubs, Node types match the core's types"
