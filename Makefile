# The two commands: `make demo` and `make test`. Both set up everything on a fresh Debian machine.
# `make bench` runs every benchmark at full size and writes bench/results.md (docs/testing.md).
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?=
# Parallel workers for the first pass of `make test` (pytest-xdist; the serial pass runs alone).
PYTEST_WORKERS ?= 4

.PHONY: demo test bench system-packages venv clean

demo: venv system-packages
	$(VENV)/bin/ritlink demo

# Two passes, one target (tests/two_passes.sh): the tests not marked `serial` on PYTEST_WORKERS
# workers, then the `serial` ones (timing and deadline checks) alone; fails if either fails.
test: venv system-packages
	PYTEST_WORKERS=$(PYTEST_WORKERS) bash tests/two_passes.sh $(PY) $(PYTEST_ARGS)

bench: venv system-packages
	$(PY) bench/run_all.py --out bench/results.md

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# Debian packages the demo and the tests run for real: the broker, the browser for the UI
# tests, systemd-analyze for the unit checks, openssl for test certificates.
# (binary:package pairs; a missing binary installs its package)
SYSTEM_TOOLS := mosquitto:mosquitto chromium:chromium systemd-analyze:systemd openssl:openssl

system-packages:
	@missing=""; \
	for pair in $(SYSTEM_TOOLS); do \
	  bin=$${pair%%:*}; pkg=$${pair#*:}; \
	  command -v $$bin >/dev/null 2>&1 || test -x /usr/sbin/$$bin || missing="$$missing $$pkg"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	  else \
	    echo "missing:$$missing -- run: sudo apt-get update && sudo apt-get install -y$$missing"; exit 1; \
	  fi; \
	fi

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
