# Two commands do everything on a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python examples/build_province_2025.py
	$(BIN)/python examples/build_district.py

# The everyday run: 10 hypothesis examples per property test (the dev profile), no slow tests.
test: $(STAMP)
	$(BIN)/python -m pytest -n 2 -p no:cacheprovider -m "not slow"

# The slow tests: make exe's build-and-run test (minutes; skipped without PyInstaller).
test-slow: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[exe]'
	$(BIN)/python -m pytest -p no:cacheprovider -m slow

# Every test, the slow ones too, with many hypothesis examples per property test (tests/kits/profiles.py).
test-thorough: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[exe]'
	HYPOTHESIS_PROFILE=thorough $(BIN)/python -m pytest -n 2 -p no:cacheprovider

bench: $(STAMP)
	$(BIN)/python -m bench --quick

# One file that runs without Python (PyInstaller): dist/cdt here, dist\cdt.exe when run on Windows.
exe: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[exe]'
	$(BIN)/python -m PyInstaller --noconfirm --clean --log-level WARN cdt.spec

clean:
	rm -rf $(VENV) build dist *.egg-info examples/out examples/out-2025

.PHONY: install demo test test-slow test-thorough bench exe clean
