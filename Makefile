# make run   - install, fetch the data, execute every notebook in place (and copy the new outputs into the
#              Chinese edition), say where the results are
# make test  - install, run the unit tests, then re-execute every notebook under strict nbval, twice:
#              with this CPU's numerics, and with the portable code paths another CPU would take
# make claims - re-run every notebook with shifted training seeds (both numerics); report failing asserts
# make zh    - rebuild the Chinese notebooks (notebooks/zh/) from the English ones, keeping the translations
# make lab   - JupyterLab on notebooks/
# make bench - time the article's loop against batched training and torch's RNNs
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
NOTEBOOKS := $(sort $(wildcard notebooks/*.ipynb))
export OMP_NUM_THREADS ?= 1

.PHONY: install run test unit nbval nbval-portable claims zh lab bench clean

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
	$(BIN)/python tools/zh_sync.py build
	$(BIN)/python -m rnn_tutorial where

unit: install
	$(BIN)/pytest tests

nbval: install
	$(BIN)/pytest --nbval --nbval-current-env -p no:cacheprovider $(NOTEBOOKS)

# torch's unvectorised kernels and MKL's portable path: the rounding of a CPU unlike this one
nbval-portable: install
	ATEN_CPU_CAPABILITY=default MKL_CBWR=COMPATIBLE $(BIN)/pytest --nbval --nbval-current-env -p no:cacheprovider $(NOTEBOOKS)

test: unit nbval nbval-portable

claims: install
	$(BIN)/python -m rnn_tutorial fetch
	$(BIN)/python tools/claims.py $(CLAIMS_ARGS)

zh: install
	$(BIN)/python tools/zh_sync.py build

lab: install
	$(BIN)/jupyter lab notebooks/

bench: install
	$(BIN)/python benchmarks/bench.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) models
