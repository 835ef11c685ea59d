# Every target creates or reuses .venv itself: a fresh clone needs only `make dev` or `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PYTHONPATH := $(CURDIR)/layers/common/python:$(CURDIR)/functions:$(CURDIR)
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export AWS_ACCOUNT_ID_ENDPOINT_MODE := disabled
PORT ?= 8080
WORKSPACE ?= demo

.PHONY: venv dev token test test-fast test-browser lint format synth openapi bench soak screenshots clean \
	bootstrap deploy destroy smoke redrive
# The CDK CLI, pinned (checked with this repo's aws-cdk-lib: it reads the cloud assembly it writes).
CDK := npx --yes aws-cdk@2.1148.1
STACK := ExecutionMonitor
CDK_ARGS ?=

$(STAMP): requirements.txt layers/common/requirements.txt layers/web/requirements.txt layers/auth/requirements.txt client/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	@# the Python client and `execmon` (editable: the tests and .venv/bin/execmon run the working tree)
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e ./client
	touch $(STAMP)

venv: $(STAMP)

dev: $(STAMP) ## run the whole system locally on 127.0.0.1:$(PORT)
	@# exec: make's child is python itself, so a SIGTERM sent to make reaches it (dash would not forward it)
	PORT=$(PORT) exec $(BIN)/python -m infrastructure.local

token: $(STAMP) ## print a bearer token for WORKSPACE (comma-separated for several)
	@$(BIN)/python -m infrastructure.local.tokens $(WORKSPACE)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy layers/common/python functions infrastructure tests app.py client/src

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: lint ## ruff, mypy, then every test suite
	$(BIN)/pytest -n 2 --dist loadgroup

test-fast: $(STAMP)
	$(BIN)/pytest tests/unit tests/integration -q

test-browser: $(STAMP) ## the monitor in headless Chromium (apt-get install chromium fonts-liberation)
	$(BIN)/pytest tests/browser -q

screenshots: $(STAMP) ## retake docs/monitor-*.png (needs Chromium)
	$(BIN)/python -m tests.browser.screenshots

synth: $(STAMP) ## synthesize the CloudFormation template into cdk.out/ (offline)
	$(BIN)/python app.py

bootstrap: $(STAMP) ## once per AWS account and region: the CDK's staging bucket and roles
	$(CDK) bootstrap $(CDK_ARGS)

deploy: $(STAMP) ## deploy the stack (docs/DEPLOY.md); settings: CDK_ARGS="-c alarmEmail=you@example.com"
	$(CDK) deploy $(STACK) --require-approval broadening --outputs-file cdk-outputs.json $(CDK_ARGS)

destroy: $(STAMP) ## delete the stack (the table and the user pool are kept: docs/DEPLOY.md)
	$(CDK) destroy $(STACK) $(CDK_ARGS)

smoke: $(STAMP) ## smoke tests: a deployed stack with E2E_BASE_URL, E2E_TOKEN, E2E_WORKSPACE set; else make dev's runtime
	$(BIN)/pytest tests/e2e -m smoke -n 1 --dist loadgroup -q

redrive: $(STAMP) ## replay a dead-letter queue of the stack: QUEUE=failed-events|webhooks [ARGS=--dry-run]
	$(BIN)/python -m infrastructure.redrive $(QUEUE) $(ARGS)

openapi: $(STAMP) ## regenerate the committed OpenAPI document
	$(BIN)/python -m infrastructure.openapi

bench: $(STAMP) ## benchmarks (prints a table; not part of the tests)
	$(BIN)/python -m tests.bench

soak: $(STAMP) ## a fresh local runtime under 8 clients, 2,000 executions (prints a table; not in CI)
	$(BIN)/python -m tests.bench.soak $(SOAK_ARGS)

clean:
	rm -rf cdk.out .build .local .pytest_cache .mypy_cache .ruff_cache
