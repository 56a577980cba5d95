# Node binding (issue 6): npm packages, the napi-rs addon, `node --test` against the simulator,
# and a TypeScript check of the examples and tests against index.d.ts. See bt-dr-node/README.md.

NODE_DIR := $(ROOT)/bt-dr-node

.PHONY: test-node node-deps node-build

# npm ci from the committed lockfile; skipped when node_modules already matches it. When npm ci
# refuses the lockfile because the registry mirror lacks the other platforms' optional packages
# (npm then cannot list them in the lockfile), `npm install --no-save` installs the same locked
# versions without rewriting the lockfile.
node-deps:
	@cd $(NODE_DIR) && if [ ! -f package-lock.json ]; then \
		npm install --no-audit --no-fund; \
	elif [ node_modules/.package-lock.json -nt package-lock.json ]; then \
		echo "node: node_modules is up to date"; \
	elif npm ci --no-audit --no-fund --loglevel=error 2>/dev/null; then \
		echo "node: npm ci done"; \
	else \
		echo "node: npm ci refused the lockfile; installing its versions with npm install --no-save"; \
		npm install --no-save --no-audit --no-fund; \
	fi

# Debug addon in the shared target dir (scripts/cargo-host.sh keeps napi from rebuilding every
# dependency under target/<triple>/).
node-build: node-deps
	cd $(NODE_DIR) && CARGO=$(NODE_DIR)/scripts/cargo-host.sh BT_DR_REAL_CARGO=$(CARGO) \
		CARGO_TARGET_DIR=$(CARGO_TARGET_DIR) \
		npx --no-install napi build --platform --output-dir native --js binding.js --dts binding.d.ts

test-node: sim node-build
	cd $(NODE_DIR) && BT_DR_SIM_BIN=$(SIM_BIN) node --test test/*.test.js
	cd $(NODE_DIR) && npx --no-install tsc --noEmit -p tsconfig.json
	@echo "node: tests and type check passed"
