# Python package bt_dr (pyo3 + maturin) and the Ansible collection bt_dr.sra (issue 5).
# `make test-python`: venv with pinned tools, debug wheel, mypy --strict, pytest against the
# simulator (includes the ansible-playbook test), a CPython 3.9 run when pyenv has one, and
# ansible-test sanity (skip it with BT_DR_SKIP_ANSIBLE_SANITY=1).

PY_DIR := $(ROOT)/bt-dr-py
PY_VENV := $(ROOT)/.venv
PY := $(PY_VENV)/bin/python
PY_REQS := $(PY_DIR)/requirements-dev.txt
PY_STAMP := $(PY_VENV)/.bt-dr-requirements
PY_WHEELS := $(CARGO_TARGET_DIR)/wheels
# The lowest CPython the abi3 wheel claims (pyo3 0.30: 3.9), when this machine has one.
PY39 := $(firstword $(wildcard $(HOME)/.pyenv/versions/3.9.*/bin/python3.9) $(shell command -v python3.9 2>/dev/null))
PY39_VENV := $(CARGO_TARGET_DIR)/py39-venv
ANSIBLE_COLLECTION := $(PY_DIR)/ansible/ansible_collections/bt_dr/sra
# pip version ansible-core 2.19's ansible-test bootstraps into its sanity venvs.
ANSIBLE_TEST_PIP := 24_2

.PHONY: test-python py-venv py-wheel py-typecheck py-pytest py39-test ansible-sanity

$(PY_STAMP): $(PY_REQS)
	test -x $(PY) || python3 -m venv $(PY_VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r $(PY_REQS)
	touch $@

py-venv: $(PY_STAMP)

# Debug wheel on the shared target dir (CARGO_TARGET_DIR is exported by the root Makefile).
py-wheel: py-venv
	rm -f $(PY_WHEELS)/bt_dr-*.whl
	cd $(PY_DIR) && $(PY_VENV)/bin/maturin build --target-dir $(CARGO_TARGET_DIR) -o $(PY_WHEELS)
	$(PY) -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps $(PY_WHEELS)/bt_dr-*.whl

# The package's own sources, then examples and tests against the installed wheel's stubs.
py-typecheck: py-wheel
	cd $(PY_DIR) && $(PY_VENV)/bin/mypy --strict python/bt_dr
	cd $(PY_DIR) && $(PY_VENV)/bin/mypy --strict examples tests

py-pytest: py-wheel sim
	cd $(PY_DIR) && BT_DR_SIM_BIN=$(SIM_BIN) BT_DR_REQUIRE_ANSIBLE=1 $(PY) -m pytest -q tests

py39-test: py-wheel sim
ifneq ($(PY39),)
	test -x $(PY39_VENV)/bin/python || $(PY39) -m venv $(PY39_VENV)
	$(PY39_VENV)/bin/python -m pip install --quiet --disable-pip-version-check pytest==8.3.5
	$(PY39_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps $(PY_WHEELS)/bt_dr-*.whl
	cd $(PY_DIR) && BT_DR_SIM_BIN=$(SIM_BIN) $(PY39_VENV)/bin/python -m pytest -q tests \
		--ignore tests/test_ansible.py --ignore tests/test_readme.py
else
	@echo "python: no CPython 3.9 here; skipping the run on the wheel's lowest Python"
endif

# ansible-test wants a get-pip.py from a host outside the package registries; the stand-in
# bootstraps pip from ensurepip and PyPI instead (see ansible/tests/get_pip_offline.py).
ansible-sanity: py-venv
	mkdir -p $(HOME)/.ansible/test/cache
	cp $(PY_DIR)/ansible/tests/get_pip_offline.py $(HOME)/.ansible/test/cache/get_pip_$(ANSIBLE_TEST_PIP).py
	cd $(ANSIBLE_COLLECTION) && PATH=$(PY_VENV)/bin:$$PATH $(PY_VENV)/bin/ansible-test sanity --local --python 3.11

test-python: sim py-typecheck py-pytest py39-test
ifeq ($(BT_DR_SKIP_ANSIBLE_SANITY),)
	$(MAKE) --no-print-directory ansible-sanity
endif
	@echo "python: all suites passed"
