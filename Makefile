# Every target works on a fresh clone: `setup` makes the virtual environment first.
VENV   ?= .venv
PY     := $(VENV)/bin/python
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

# The image tests need root (debootstrap makes their base image; the engine's socket): not
# root, the suite runs through sudo when sudo needs no password, as on CI runners.
AS_ROOT = $(shell [ "$$(id -u)" = 0 ] || ! sudo -n true 2>/dev/null || echo 'sudo -E env PATH=$$PATH')

.PHONY: setup components test lint bench bench-renovate demo demo-release clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,lint]'
	touch $@

# The bump half, then (when a Docker engine answers) the release half.
demo: setup
	$(PY) -m tests.support.demo
	@if $(AS_ROOT) docker info >/dev/null 2>&1; then $(MAKE) --no-print-directory demo-release; \
	else echo "# the release half needs a Docker engine: make components, then make demo-release"; fi

# The release half: build, publish to two local registries, verify, report (needs a Docker
# engine; `components` gets the registry and debootstrap). See tests/support/demo_release.py.
demo-release: setup components
	$(AS_ROOT) $(PY) -m tests.support.demo_release

# What the suite talks to (Docker engine, debootstrap, the distribution registry, htpasswd,
# GitHub's API descriptions): installed and started when missing; see .ci/components.
components:
	./.ci/components

test: setup components
	$(AS_ROOT) $(PY) -m pytest

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	find dockerfiles -name 'Dockerfile*' -print0 | xargs -0 -r $(BIN)/hadolint
	find dockerfiles -name '*.sh' -print0 | xargs -0 -r $(BIN)/shellcheck
	@if [ -d .github/workflows ]; then \
	  $(BIN)/actionlint && \
	  $(BIN)/zizmor --offline .github/workflows workflows && \
	  $(BIN)/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml; \
	fi
	$(BIN)/check-jsonschema --check-metaschema bot/catalog.schema.json
	$(BIN)/check-jsonschema --schemafile bot/catalog.schema.json dockerfiles/images.yaml
	@if [ -f renovate.json ]; then $(BIN)/check-jsonschema --builtin-schema vendor.renovate renovate.json; fi
	@if [ -d renovate ]; then $(BIN)/check-jsonschema --builtin-schema vendor.renovate renovate/*.json; fi

bench: setup
	$(PY) -m bench.bench_upstream
	$(PY) -m bench.bench_startup
	$(PY) -m bench.bench_planner
	$(PY) -m bench.bench_bump
	$(PY) -m bench.bench_verify
	$(PY) -m bench.bench_images
	$(PY) -m bench.bench_release

# Renovate's CPU on the job bench_startup measures, for its ratio: installs a pinned Renovate
# and Node from the npm registry into .cache/ first (a few minutes), then runs on loopback only.
bench-renovate: setup
	$(PY) -m bench.bench_renovate

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
