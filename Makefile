# The two commands that matter: `make run` and `make test`. Both create .venv on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Two stamps: `make run` installs only what the application needs; `make test` adds the dev
# extras (pytest, ruff, import-linter, scikit-image) on top.
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: run test lint bench package clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e .
	touch $(STAMP)

$(DEV_STAMP): $(STAMP)
	$(BIN)/python -m pip install -e '.[dev]'
	touch $(DEV_STAMP)

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
