# Two commands for people: `make run` and `make test`. Everything else is set-up they pull in.
# Each set-up step leaves a stamp file, so repeated runs skip it.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TOOLS := .tools
BUN_VERSION := 1.4.4
PORT ?= 3000

# Keep Reflex, Bun and npm off the network and out of the home folder (see docs/BUILD_NOTES in README).
export REFLEX_DIR := $(CURDIR)/$(TOOLS)/reflex
export REFLEX_BUN_PATH := $(CURDIR)/$(TOOLS)/node_modules/.bin/bun
export BUN_INSTALL_CACHE_DIR := $(CURDIR)/$(TOOLS)/bun-cache
export BUN_RUNTIME_TRANSPILER_CACHE_PATH := $(CURDIR)/$(TOOLS)/bun-transpiler-cache
export npm_config_cache := $(CURDIR)/$(TOOLS)/npm-cache
export REFLEX_TELEMETRY_ENABLED := false
export REFLEX_CHECK_LATEST_VERSION := false
# A set registry skips Reflex's probe for the fastest one; use the one npm is configured with.
export NPM_CONFIG_REGISTRY ?= $(shell npm config get registry 2>/dev/null)
export PORT

.PHONY: run test setup bench lint train clean

run: setup
	$(BIN)/python -m segmentation_core train --if-empty
	$(BIN)/python -m web.serve

test: setup
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/python benchmarks/run_all.py

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy segmentation_core graph_api

train: setup
	$(BIN)/python -m segmentation_core train

setup: $(VENV)/.installed $(TOOLS)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=25.1"
	$(BIN)/python -m pip install --quiet -e ".[spark]" --group dev
	touch $@

# Bun (the JavaScript runtime Reflex builds with) and the GraphiQL assets, from the npm registry.
$(TOOLS)/.installed: $(TOOLS)/package.json
	cd $(TOOLS) && npm install --no-audit --no-fund --loglevel=error
	touch $@

$(TOOLS)/package.json: tools.package.json
	mkdir -p $(TOOLS)
	cp tools.package.json $@

clean:
	rm -rf $(VENV) $(TOOLS) .web
