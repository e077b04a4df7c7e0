# `make test` and `make demo` each set everything up on a fresh clone.
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
STAMP  := $(VENV)/.ecsel-installed

# CPU machines take the CPU torch wheel already on disk; a machine with a GPU
# driver gets the regular (CUDA) torch build.
TORCH_SPEC := $(shell command -v nvidia-smi >/dev/null 2>&1 && echo "torch>=2.3" || echo "torch==2.13.0")

.PHONY: setup test demo lint bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q "$(TORCH_SPEC)"
	$(PIP) install -q "$(TORCH_SPEC)" -e ".[dev,plot,bench]"
	# Wheels that pin stale dependency trees: installed without their dependencies.
	$(PIP) install -q --no-deps ccexam==1.0.0
	touch $(STAMP)

test: setup
	$(PY) -m pytest -q -n 2 --dist loadfile

demo: setup
	$(VENV)/bin/ecsel demo

lint: setup
	$(VENV)/bin/ruff check ecsel attribution tests benchmarks examples

clean:
	rm -rf $(VENV) build dist .pytest_cache
