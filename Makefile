# idfy — two commands on a fresh machine:  `make run` (start the explorer)  and  `make test` (run the tests).
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 7860

.PHONY: setup system-deps run test test-fast lint bench clean axe sizes

$(BIN)/python:
	$(PY) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python requirements.txt requirements-dev.txt pyproject.toml
	$(BIN)/pip install --upgrade pip
	$(BIN)/pip install -r requirements-dev.txt
	$(BIN)/pip install --no-deps -e .
	touch $@

setup: $(VENV)/.installed ## create .venv and install idfy with its pinned dependencies

system-deps: ## Debian packages: graphviz (dot), chromium (browser tests), Fashion-MNIST files
	@command -v dot >/dev/null && command -v chromium >/dev/null && test -d /usr/share/datasets/fashion-mnist || \
	  { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
	      graphviz chromium dataset-fashion-mnist fonts-dejavu-core; }

run: setup ## start the explorer at http://$(HOST):$(PORT)
	@command -v dot >/dev/null || $(MAKE) system-deps
	GRADIO_ANALYTICS_ENABLED=False $(BIN)/python app.py --host $(HOST) --port $(PORT)

AXE := tests/.axe/node_modules/axe-core/axe.min.js
$(AXE): ## axe-core (pinned) for the accessibility test, from the npm registry into the git-ignored tests/.axe/
	@command -v npm >/dev/null && npm install --no-audit --no-fund --prefix tests/.axe axe-core@4.10.3 || \
	  echo "npm not found: the axe-core accessibility test will be skipped (apt-get install npm)"

axe: $(AXE)

test: setup system-deps axe ## the whole test suite (unit, integration, API, browser)
	GRADIO_ANALYTICS_ENABLED=False $(BIN)/python -m pytest -n 2 --dist loadgroup -q

test-fast: setup
	$(BIN)/python -m pytest -q -m "not browser and not slow"

sizes: setup ## modules over ~500 lines and functions over ~60 (a habit, not a rule)
	$(BIN)/python tools/sizes.py idfy

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: setup ## quick benchmarks (minutes); the long ones are listed in benchmarks/README.md
	$(BIN)/python benchmarks/analysis_speed.py
	$(BIN)/python benchmarks/app_latency.py
	$(BIN)/python benchmarks/data_speed.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
