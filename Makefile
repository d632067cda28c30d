# Two commands set up a fresh machine (Python 3.11, pip, gcc):
#   make demo   environment + a short cross-validation on the built-in synthetic faces + its report,
#               then the bundled model on every face of a public-domain photo (annotated image + JSON)
#   make test   environment + the checks of the layout (ruff, import-linter, duplicates) + the test suite
#   make bench  every benchmark in BENCHMARKS.md, on the datasets in ../shared/data (hours on 2 cores)
# torch is pinned for the install step: a loose `torch` can pull a multi-GB CUDA build.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TORCH ?= torch==2.13.0

.PHONY: setup demo check test bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

setup: $(BIN)/.installed

# The demo's cross-validation is small on purpose (bench/demo_time.py times it; README gives the time): 900
# synthetic faces in 5 folds took 14 min on a busy 2-core machine. 360 faces, 2 folds of each protocol, 30
# epochs still learn well above chance (1/6). One OpenMP thread: batches this small gain little from a second
# one, and on a busy machine its threads spin for cores (the same run took 281 s of CPU with two, 3.5 ms per face
# and epoch with one).
DEMO_CV := synthetic --subjects 12 --per-class 5 --folds 2 --epochs 30

demo: setup
	OMP_NUM_THREADS=1 $(BIN)/mffcnn cv $(DEMO_CV) --name demo
	$(BIN)/mffcnn predict mffcnn/samples/astronaut.png --save --name demo

# The checks that keep the layout honest run before the tests (docs/architecture.md): lint and format (ruff),
# the layers and forbidden imports (import-linter), no block of 6+ lines copied (pylint's duplicate-code).
check: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/pylint --disable=all --enable=duplicate-code --min-similarity-lines=6 --score=n mffcnn bench tests

test: check
	$(BIN)/python -m pytest

bench: setup
	PATH=$(BIN):$$PATH sh bench/all.sh ../shared/data

clean:
	rm -rf $(VENV) runs .pytest_cache
