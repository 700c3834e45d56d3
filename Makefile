# make run   - install, fetch the data, execute every notebook in place (and copy the new outputs into the
#              Chinese edition), say where the results are
# make test  - install, run the unit tests, then re-execute every notebook under strict nbval, twice (in
#              parallel): with this CPU's numerics, and with the portable code paths another CPU would take;
#              then each notebook's main line alone (deeper cells removed) and the exercise solutions in
#              quick mode (in parallel); then build the site and the kit and check them, in Chromium too
# make claims - re-run every notebook with shifted training seeds (both numerics); report failing asserts
# make zh    - rebuild the Chinese notebooks (notebooks/zh/) from the English ones, keeping the translations
# make lab   - JupyterLab on notebooks/
# make bench - time the article's loop against batched training and torch's RNNs
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
NOTEBOOKS := $(sort $(wildcard notebooks/*.ipynb))
export OMP_NUM_THREADS ?= 1

.PHONY: install run test unit nbval nbval-portable mainline solutions site-check claims zh lab bench clean

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
	$(BIN)/pytest -m "not slow" tests

nbval: install
	$(BIN)/pytest --nbval --nbval-current-env -p no:cacheprovider $(NOTEBOOKS)

# torch's unvectorised kernels and MKL's portable path: the rounding of a CPU unlike this one
# (run on a copy in build/portable/, so that the models it saves never meet those of a parallel `make nbval`)
nbval-portable: install
	rm -rf build/portable && mkdir -p build/portable/notebooks && cp $(NOTEBOOKS) build/portable/notebooks/
	ATEN_CPU_CAPABILITY=default MKL_CBWR=COMPATIBLE $(BIN)/pytest --nbval --nbval-current-env -p no:cacheprovider \
		$(addprefix build/portable/,$(NOTEBOOKS))

# each notebook with every `deeper` cell removed runs top to bottom on its own
mainline: install
	$(BIN)/pytest -m slow -p no:cacheprovider tests/test_notebooks.py

# every exercise solution, executed with QUICK = True (small training budgets, every line still runs)
solutions: install
	$(BIN)/python tools/claims.py --quick

site-check: install site kit
	$(BIN)/pytest -p no:cacheprovider tests/test_site.py tests/test_kit.py
	$(MAKE) --no-print-directory browser

test: unit
	$(MAKE) --no-print-directory -j2 -O nbval nbval-portable
	$(MAKE) --no-print-directory -j2 -O mainline solutions
	$(MAKE) --no-print-directory site-check

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

# make site    - both editions of the site (en/, zh/), the demo and the kit downloads into build/site/:
#                Sphinx in its own pinned environment (.venv-site), MathJax from npm (package-lock.json)
# make kit     - the teacher kit into build/kit/: clean, main-line, exercise and solution notebooks
# make browser - headless Chromium against build/site/ (make site first): every page loads with no failed
#                request or script error, every formula typeset, the Chinese search finds 梯度; the demo
#                gives predict's answers (tests/browser/demo.mjs)
SITE_VENV := .venv-site
.PHONY: site kit browser

$(SITE_VENV)/.installed: site/requirements.txt
	$(PYTHON) -m venv $(SITE_VENV)
	$(SITE_VENV)/bin/pip install -r site/requirements.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

kit:
	$(PYTHON) tools/kit.py

site: $(SITE_VENV)/.installed node_modules/.installed
	$(SITE_VENV)/bin/python tools/site.py

browser:
	@command -v node >/dev/null || { echo "SKIP browser tests: no Node.js (CI installs it)"; exit 0; }; \
	$(MAKE) --no-print-directory node_modules/.installed && \
	node tests/browser/site.mjs build/site && node tests/browser/demo.mjs build/site

# make demo    - the live demo's weights (site/demo/model.json) from notebook 3's saved single model
#                (models/ + config.NOTEBOOK_CHECKPOINT); run it after executing notebook 3 (it never trains).
#                DEMO_CHECKPOINT=path exports another hand-written-RNN checkpoint.
DEMO_CHECKPOINT ?=
.PHONY: demo

demo: install
	$(BIN)/python -m rnn_tutorial.export $(DEMO_CHECKPOINT) --out site/demo/model.json
