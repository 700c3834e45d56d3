# make run   - install, fetch the data, execute every notebook in place, say where the results are
# make test  - install, run the unit tests, then re-execute every notebook under strict nbval
# make lab   - JupyterLab on notebooks/
# make bench - time the article's loop against batched training and torch's RNNs
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
NOTEBOOKS := $(sort $(wildcard notebooks/*.ipynb))
export OMP_NUM_THREADS ?= 1

.PHONY: install run test unit nbval lab bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/pip install -r requirements.txt
	$(BIN)/pip install --no-deps -e .
	touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/python -m rnn_tutorial fetch
	@test -n "$(NOTEBOOKS)" || { echo "no notebooks in notebooks/ to run"; exit 1; }
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace $(NOTEBOOKS)
	$(BIN)/python -m rnn_tutorial where

unit: install
	$(BIN)/pytest tests

nbval: install
	$(BIN)/pytest --nbval --nbval-current-env -p no:cacheprovider $(NOTEBOOKS)

test: unit nbval

lab: install
	$(BIN)/jupyter lab notebooks/

bench: install
	$(BIN)/python benchmarks/bench.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) models
