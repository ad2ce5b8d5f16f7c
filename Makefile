# Two commands a newcomer needs: `make demo` and `make test`. Both create .venv when
# it is missing and install the project into it; nothing else is assumed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.previz-installed

.PHONY: demo test run screenshots bench clean

# A CPU torch lies on local disk here; it goes in first so pip does not fetch a
# multi-GB CUDA build to satisfy the project's torch dependency.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/previz demo --out previz-demo

test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest

# The desktop app, on the demo project when `make demo` has made it.
PROJECT ?= $(wildcard previz-demo/the_last_lighthouse.previz)
run: $(STAMP)
	$(BIN)/previz-gui $(PROJECT)

screenshots: $(STAMP)
	bash docs/screenshots/make.sh

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_store.py
	QT_QPA_PLATFORM=offscreen $(BIN)/python benchmarks/bench_gui.py
	$(BIN)/python benchmarks/bench_boards.py
	$(BIN)/python benchmarks/bench_deck.py

clean:
	rm -rf previz-demo .pytest_cache
