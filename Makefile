# Two commands set up a fresh machine (Python 3.11, pip, gcc):
#   make demo   environment + a short cross-validation on the built-in synthetic faces + its report
#   make test   environment + the test suite
# torch is pinned for the install step: a loose `torch` can pull a multi-GB CUDA build.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TORCH ?= torch==2.13.0

.PHONY: setup demo test bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

setup: $(BIN)/.installed

demo: setup
	$(BIN)/mffcnn cv synthetic --folds 5 --epochs 10 --name demo
	@echo "open the newest runs/cv/demo*/report.md"

test: setup
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/python bench/model_size.py
	$(BIN)/python bench/ckplus_cv.py --data ../shared/data/ckplus48 --recipes paper

clean:
	rm -rf $(VENV) runs .pytest_cache
