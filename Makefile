# tqd-lite: every command creates or reuses the local virtual environment .venv first.
#   make reproduce   the quick reproduction (CPU, minutes; reads the committed models); results under
#                    results/quick/
#   make reproduce-full  the full one, its golden model trained again (in results/full/golden_model;
#                    the gradient analysis reads the committed one); results under results/full/
#   make test        unit tests and the notebooks (nbval), quick profile
#   make lab         JupyterLab on the notebooks
#   make book        the notebooks executed (quick profile) and rendered to build/book/index.html
#
# torch is installed before everything else, so the package's own range (torch>=2.2) is already
# met and pip pulls nothing more. The default is the CPU build these machines carry; on a GPU
# machine pick a CUDA build, e.g.
#   make setup TORCH="torch --index-url https://download.pytorch.org/whl/cu124"
# (or install any torch into .venv yourself first: an importable torch is kept as it is).

PYTHON ?= python3
VENV ?= .venv
TORCH ?= torch==2.13.0
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup reproduce reproduce-full test lab book lint

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/pip install $(TORCH)
	$(BIN)/pip install -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)

reproduce: $(STAMP)
	$(BIN)/python -m tqd_lite reproduce all --profile quick

reproduce-full: $(STAMP)
	$(BIN)/python -m tqd_lite reproduce all --profile full --retrain

test: $(STAMP)
	TQD_PROFILE=quick MPLBACKEND=Agg $(BIN)/python -m pytest --nbval-lax --nbval-current-env tests notebooks

# JupyterLab refuses to start as root (as in many ML containers) unless told --allow-root
lab: $(STAMP)
	TQD_PROFILE=quick $(BIN)/jupyter lab notebooks $$([ "$$(id -u)" = 0 ] && echo --allow-root)

book: $(STAMP)
	TQD_PROFILE=quick $(BIN)/python docs/build_book.py

lint: $(STAMP)
	$(BIN)/ruff check tqd_lite tests benchmarks docs
