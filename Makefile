# hessian-lab: every target sets up what it needs in .venv (created on first use) and then runs.
#   make serve     start the app (HESSIAN_LAB_ADDRESS, HESSIAN_LAB_PORT, HESSIAN_LAB_ORIGIN;
#                  WORKERS=N: N processes behind HAProxy, see serve/supervisor.py)
#   make test      run every test: core, app in headless Chromium, notebooks, packaging
#   make test-fast the everyday subset: core and app without a browser, over every core
#   make test-gpu  run the core tests on CuPy (needs an NVIDIA GPU)
#   make bench     run every benchmarks/bench_*.py
#   make lab       JupyterLab on notebooks/ (a save writes both files of a jupytext pair)
#   make lint      ruff
# Variables can be given on the command line or in the environment: make serve HESSIAN_LAB_PORT=8080

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

# pip runs under flock (where present) so that two installs into one venv never interleave.
PIP_LOCK ?= /tmp/pip.lock
LOCKED := $(shell command -v flock >/dev/null 2>&1 && echo flock $(PIP_LOCK))

# One stamp per set of extras, in the venv itself; pip runs again only when pyproject.toml
# (or a package's __init__.py) is newer than the stamp, or the venv is new.
STAMP := $(VENV)/.hessian-lab-installed
comma := ,
SOURCES := pyproject.toml $(wildcard hessian_core/__init__.py app/__init__.py)

# make serve: address and port to listen on, and the browser origins allowed to connect:
# by default this server's own names and addresses with the port (serve/origins.py), never *.
# Serving a class: make serve WORKERS=4 HESSIAN_LAB_ADDRESS=0.0.0.0 (students open
# http://HOST:5006/app). WORKERS=1 is one `panel serve app` process; more run that many
# processes on loopback ports behind HAProxy (Debian's package, installed here when missing).
# HESSIAN_LAB_STATE_FILE (WORKERS > 1): a JSON file of the processes' pids, for tests.
HESSIAN_LAB_ADDRESS ?= localhost
HESSIAN_LAB_PORT ?= 5006
HESSIAN_LAB_ORIGIN ?= $(shell $(PYTHON) -m serve.origins '$(HESSIAN_LAB_ADDRESS)' '$(HESSIAN_LAB_PORT)')
HESSIAN_LAB_STATE_FILE ?=
WORKERS ?= 1
# Workers started on other machines, HOST:PORT separated by spaces, added behind HAProxy.
REMOTE_WORKERS ?=
SERVE_ARGS ?=
BALANCED := $(or $(filter-out 1,$(WORKERS)),$(strip $(REMOTE_WORKERS)))

# make serve, make test: HESSIAN_LAB_FAST_PATHS=off runs the app without its library fast paths
# (app/compat.py: Panel's, Bokeh's and Tornado's public routes only, no BokehJS shims).
HESSIAN_LAB_FAST_PATHS ?= on
export HESSIAN_LAB_FAST_PATHS

# make test: extra pytest arguments, e.g. make test PYTEST_ARGS="-x -k fnn".
# BROWSER_TESTS=0 leaves out the tests that need Chromium.
PYTEST_ARGS ?=
BROWSER_TESTS ?= 1
ifeq ($(BROWSER_TESTS),0)
BROWSER_PYTEST_ARGS := -m "not browser"
endif

.PHONY: help serve serve-check haproxy test test-fast test-gpu bench lab lint browser gpu-check clean

help:
	@sed -n 's/^#   //p' $(firstword $(MAKEFILE_LIST))

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(None if sys.version_info >= (3, 11) else "hessian-lab needs Python >= 3.11; run e.g. make PYTHON=python3.12 ...")'
	$(PYTHON) -m venv $(VENV)
	$(LOCKED) $(PY) -m pip install --quiet --upgrade pip

$(STAMP)-%: $(SOURCES) | $(PY)
	$(LOCKED) $(PY) -m pip install --quiet -e "$(if $(filter base,$*),.,.[$(subst +,$(comma),$*)])"
	@touch $@

serve: serve-check $(STAMP)-base $(if $(BALANCED),haproxy)
ifeq ($(BALANCED),)
	$(VENV)/bin/panel serve app --address $(HESSIAN_LAB_ADDRESS) --port $(HESSIAN_LAB_PORT) \
		$(foreach origin,$(HESSIAN_LAB_ORIGIN),--allow-websocket-origin='$(origin)') $(SERVE_ARGS)
else
	exec $(PY) -m serve.supervisor --workers $(WORKERS) --address $(HESSIAN_LAB_ADDRESS) \
		--port $(HESSIAN_LAB_PORT) $(foreach origin,$(HESSIAN_LAB_ORIGIN),--origin='$(origin)') \
		$(foreach remote,$(REMOTE_WORKERS),--remote='$(remote)') \
		$(if $(HESSIAN_LAB_STATE_FILE),--state-file='$(HESSIAN_LAB_STATE_FILE)') -- $(SERVE_ARGS)
endif

serve-check:
	@[[ "$(WORKERS)" =~ ^[1-9][0-9]*$$ ]] || { echo "make serve: WORKERS must be a whole number >= 1, not '$(WORKERS)'" >&2; exit 1; }
	@[[ -n "$(strip $(HESSIAN_LAB_ORIGIN))" ]] || { echo "make serve: no websocket origin for HESSIAN_LAB_ADDRESS=$(HESSIAN_LAB_ADDRESS); set HESSIAN_LAB_ORIGIN=HOST:PORT" >&2; exit 1; }
	@if [[ " $(HESSIAN_LAB_ORIGIN) " == *" * "* ]]; then echo "make serve: HESSIAN_LAB_ORIGIN='*' would let any web page drive the app; name the origins (HOST:PORT)" >&2; exit 1; fi

# Debian's HAProxy in front of the workers of make serve WORKERS=N (N > 1).
haproxy:
	@if command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ]; then \
		:; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing Debian's haproxy for make serve WORKERS=$(WORKERS)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy </dev/null; \
	else \
		echo "make serve WORKERS=$(WORKERS) runs the workers behind HAProxy, and none was found. Either" >&2; \
		echo "  - install it: sudo apt-get install haproxy   (Debian/Ubuntu), or" >&2; \
		echo "  - serve one process: make serve (WORKERS=1)" >&2; \
		exit 1; \
	fi

# Debian's Chromium for the browser tests (never a browser downloaded by a test tool).
browser:
ifneq ($(BROWSER_TESTS),0)
	@if [ -n "$${HESSIAN_LAB_CHROMIUM:-}" ]; then \
		[ -x "$$HESSIAN_LAB_CHROMIUM" ] || { echo "HESSIAN_LAB_CHROMIUM=$$HESSIAN_LAB_CHROMIUM is not an executable" >&2; exit 1; }; \
	elif command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then \
		:; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium </dev/null; \
	else \
		echo "The app's tests drive a headless Chromium, and none was found. Either" >&2; \
		echo "  - install it: sudo apt-get install chromium   (Debian/Ubuntu), or" >&2; \
		echo "  - point HESSIAN_LAB_CHROMIUM at a Chromium or Chrome binary, or" >&2; \
		echo "  - leave those tests out: make test BROWSER_TESTS=0" >&2; \
		exit 1; \
	fi
endif

# make test runs the suite in two parts (conftest.py): first the tests that share the cores
# under pytest-xdist (the same as make test-fast), then the ones that run one at a time
# (Chromium, JupyterLab, served processes, benchmarks, notebooks, slow). Both parts run
# even when the first fails; make test fails if either did. FAST_WORKERS=N sets the number
# of processes of the first part (auto: one per core).
FAST_WORKERS ?= auto
test: $(STAMP)-test browser
	@status=0; \
	$(PY) -m pytest -n $(FAST_WORKERS) --part=parallel $(BROWSER_PYTEST_ARGS) $(PYTEST_ARGS) \
		|| [ $$? = 5 ] || status=1; \
	HESSIAN_LAB_CHROMIUM="$${HESSIAN_LAB_CHROMIUM:-$$(command -v chromium || command -v chromium-browser || true)}" \
		$(PY) -m pytest --part=serial $(BROWSER_PYTEST_ARGS) $(PYTEST_ARGS) \
		|| [ $$? = 5 ] || status=1; \
	exit $$status

# Everyday work: the core (with its doctests), the app without a browser and the packaging checks,
# spread over the machine's cores by pytest-xdist; what needs Chromium, the notebooks, the
# benchmarks' tests and the tests marked slow are left to make test.
test-fast: $(STAMP)-test
	$(PY) -m pytest -n $(FAST_WORKERS) --part=parallel $(PYTEST_ARGS)

gpu-check:
	@if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L >/dev/null 2>&1; then \
		echo "make test-gpu: no NVIDIA GPU is visible here (nvidia-smi is missing or fails)." >&2; \
		echo "It runs the core tests on CuPy and needs a CUDA GPU; on this machine use make test." >&2; \
		exit 1; \
	fi

test-gpu: gpu-check $(STAMP)-gpu+test
	@$(PY) -c 'import cupy; n = cupy.cuda.runtime.getDeviceCount(); print("CuPy", cupy.__version__, "sees", n, "GPU(s)")' \
		|| { echo "make test-gpu: CuPy cannot use the GPU (see the error above; cupy-cuda12x needs a CUDA 12 driver)." >&2; exit 1; }
	HESSIAN_LAB_BACKEND=cupy $(PY) -m pytest tests/core $(PYTEST_ARGS)

# Each benchmark runs as a module (python -m benchmarks.bench_NAME) from the repository root.
BENCH_ARGS ?=
bench: $(STAMP)-bench
	@shopt -s nullglob; files=(benchmarks/bench_*.py); \
	if [ $${#files[@]} -eq 0 ]; then echo "No benchmarks/bench_*.py to run."; exit 0; fi; \
	for file in "$${files[@]}"; do \
		module=benchmarks.$$(basename "$$file" .py); \
		echo "== python -m $$module $(BENCH_ARGS)"; \
		$(PY) -m "$$module" $(BENCH_ARGS) || exit 1; \
	done

# The notebook extra brings jupytext, whose JupyterLab extension saves each notebook's .ipynb and
# its paired percent-format .py together (notebooks/jupytext.toml). JUPYTER_CONFIG_PATH adds
# jupyter/ to Jupyter's configuration: its jupyter_server_config.py cleans every notebook as it is
# saved (jupyter/save_hook.py: no outputs, no trailing whitespace, the metadata kept as on disk).
# Serving another machine: make lab LAB_ARGS="--no-browser --ip=0.0.0.0 --IdentityProvider.token=..."
# LAB_ROOT: the folder JupyterLab shows (tests/test_lab_save.py gives a copy of a notebook pair).
LAB_ARGS ?=
LAB_ROOT ?= notebooks
lab: $(STAMP)-notebook
	JUPYTER_CONFIG_PATH="$(CURDIR)/jupyter$${JUPYTER_CONFIG_PATH:+:$$JUPYTER_CONFIG_PATH}" \
		$(VENV)/bin/jupyter lab --ServerApp.root_dir='$(LAB_ROOT)' $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

lint: $(STAMP)-test
	$(VENV)/bin/ruff check .

# Caches only; the venv stays (rm -rf .venv to start over).
clean:
	rm -rf .pytest_cache .ruff_cache build dist *.egg-info .hypothesis
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
