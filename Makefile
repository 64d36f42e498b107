# kafkagram: `make up` runs everything on this machine, `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: help install up test test-fast lint typecheck pytest bench seed status migrate lock clean compose-up compose-down deploy rds-ca-bundle openapi fuzz

help:
	@echo "make up      start the broker, S3, migrations, and every function of template.yaml"
	@echo "make test    lint, type-check and run every test against real services"
	@echo "make test-fast   the unit tier only (tests/unit: no services, seconds)"
	@echo "make bench   benchmarks, printed as tables"
	@echo "make seed    load the Reed98 social graph with posts and images into a running make up"
	@echo "make status  per-function figures of the running runtime"
	@echo "make compose-up / compose-down   the Docker Compose path (Redpanda, LocalStack)"
	@echo "make deploy  sam validate, build and deploy to AWS (SAM CLI in its own virtualenv)"

# The local S3 of `make up` keeps its files with s3rver, pinned in its own small npm package (emulator/s3/node):
# `npm ci` again only when its package.json or package-lock.json change.
NPM ?= npm
S3_NODE := emulator/s3/node
S3_NODE_STAMP := $(S3_NODE)/node_modules/.installed-stamp

install: $(STAMP) $(S3_NODE_STAMP)

$(S3_NODE_STAMP): $(S3_NODE)/package.json $(S3_NODE)/package-lock.json
	cd $(S3_NODE) && $(NPM) ci --no-audit --no-fund
	touch $(S3_NODE_STAMP)

# The virtualenv is rebuilt when the pinned dependencies change.
$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[dev]'
	touch $(STAMP)

up: install web-build
	$(BIN)/kafkagram up

migrate: install
	$(BIN)/kafkagram migrate

status: install
	$(BIN)/kafkagram status

lint: install
	$(BIN)/ruff check .
	$(BIN)/cfn-lint template.yaml
	$(BIN)/python -m kafkagram_local.openapi --check

typecheck: install
	$(BIN)/mypy emulator kafkagram_local layers/kafkagram/kafkagram handlers
	# Its own run: the API function's modules are top-level (app, routes, deps), as in Lambda's task root.
	$(BIN)/mypy functions/api
	$(BIN)/mypy functions/ws

pytest: install web-build
	$(BIN)/pytest

test: lint typecheck web-check pytest

# The unit tier: no PostgreSQL, Redis, broker or S3 (tests/unit/conftest.py refuses them), no web build.
test-fast: install
	$(BIN)/pytest tests/unit -q

# Schemathesis against the API function in-process (tests/integration/api/test_api_fuzz.py), with more
# generated examples per operation than `make test` runs: no 5xx, only documented statuses and bodies.
FUZZ_EXAMPLES ?= 100
fuzz: install
	KAFKAGRAM_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest tests/integration/api/test_api_fuzz.py -q -s

bench: install
	$(BIN)/kafkagram bench

# Against a running `make up`: the socfb-Reed98 graph with profiles, posts and images (idempotent).
seed: install
	$(BIN)/kafkagram seed

# The web app (frontend/): `npm ci` again only when package.json or package-lock.json change; checks
# (generated API types up to date, eslint, tsc, vitest); the build that `up` serves and the browser
# tests drive; `web-dev` runs Vite's dev server with /api proxied to a running `make up`.
NPM ?= npm
WEB := frontend
WEB_STAMP := $(WEB)/node_modules/.installed-stamp

.PHONY: web-install web-check web-build web-dev

web-install: $(WEB_STAMP)

$(WEB_STAMP): $(WEB)/package.json $(WEB)/package-lock.json
	cd $(WEB) && $(NPM) ci --no-audit --no-fund
	touch $(WEB_STAMP)

web-check: web-install
	cd $(WEB) && $(NPM) run --silent check

web-build: web-install
	cd $(WEB) && $(NPM) run --silent build

web-dev: web-install
	cd $(WEB) && $(NPM) run dev

compose-up:
	docker compose up --build --wait

compose-down:
	docker compose down

# SAM CLI pins older boto3 and click: install it in its own virtualenv and point SAM at it.
SAM ?= sam
SAM_ENV ?= default
# The RDS CA bundle the functions verify the database against (DATABASE_CA_BUNDLE, sslmode=verify-full):
# fetched into the layer at deploy time, never committed (git-ignored; AWS adds CAs to it over time).
RDS_CA_BUNDLE := layers/kafkagram/kafkagram/certs/rds-global-bundle.pem
RDS_CA_URL := https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem
rds-ca-bundle:
	mkdir -p $(dir $(RDS_CA_BUNDLE))
	curl -fsSL --retry 3 -o $(RDS_CA_BUNDLE).tmp $(RDS_CA_URL)
	grep -q "BEGIN CERTIFICATE" $(RDS_CA_BUNDLE).tmp && mv $(RDS_CA_BUNDLE).tmp $(RDS_CA_BUNDLE)

deploy: rds-ca-bundle
	$(SAM) validate --lint
	$(SAM) build
	$(SAM) deploy --guided --config-env $(SAM_ENV)

# Regenerate docs/openapi.json after changing the API's routes or models (and the web app's types from it).
openapi: install web-install
	$(BIN)/python -m kafkagram_local.openapi
	cd $(WEB) && $(NPM) run --silent gen:api

# Re-resolve the full pinned set after changing a dependency in pyproject.toml.
lock:
	rm -rf /tmp/kafkagram-lock && $(PYTHON) -m venv /tmp/kafkagram-lock
	/tmp/kafkagram-lock/bin/pip install --quiet '.[dev]'
	/tmp/kafkagram-lock/bin/pip freeze --exclude kafkagram > requirements.lock

clean:
	rm -rf $(VENV) .run .pytest_cache .mypy_cache .ruff_cache
