# The two commands a user needs: `make dataset` and `make test`. Each builds .venv with what it needs first:
# generating needs the package alone (a .venv of 834 MB); the tests, baselines and the collection page need the
# test, baseline and collect extras as well (PyTorch, Playwright, a web server: 2.0 GB in all).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# A stamp per install, newer than the files it was installed from: the package alone, and with every extra.
BASE := $(VENV)/.installed-base
INSTALLED := $(VENV)/.installed
OUT ?= build/afro_mnist

.PHONY: venv dataset push test lint format bench bench-real clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# A .venv that already has every extra, installed since the files last changed, has the package too.
$(BASE): pyproject.toml constraints.txt | $(BIN)/python
	if [ ! $(INSTALLED) -nt pyproject.toml ] || [ ! $(INSTALLED) -nt constraints.txt ]; then \
		$(BIN)/python -m pip install --quiet -c constraints.txt -e .; fi
	touch $@

# Every extra includes the package: a full install stands for the base one too.
$(INSTALLED): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[test,baseline,collect]"
	touch $(BASE) $@

## venv: .venv with every extra: the tests, PyTorch for baselines and AfroMNIST, the collection page
venv: $(INSTALLED)

## dataset: generate the six built-in configs, full size, into build/afro_mnist (a few minutes on 2 cores: docs/results.md, Speed and memory); installs the package alone
dataset: $(BASE)
	$(BIN)/afro-mnist generate --out $(OUT) --overwrite

## push: publish build/afro_mnist to the Hub in one commit, to REPO_ID of generator/settings.py unless
## REPO_ID=owner/name is given here; token from HF_TOKEN
push: $(BASE)
	$(BIN)/afro-mnist push $(if $(REPO_ID),--repo-id $(REPO_ID)) --from $(OUT) $(PUSH_ARGS)

## test: lint, then the test suite
test: lint
	$(BIN)/python -m pytest

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(INSTALLED)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## bench: speed and memory of generation (several minutes; figures go in docs/results.md)
bench: $(BASE)
	$(BIN)/python benchmarks/generation.py

## bench-real: generated-to-real transfer of the default recipe on the real Tamil, Malayalam and MNIST digits, and the
## six configs' generated tests, at the sizes results/real_transfer.json records (about 5 minutes on 2 cores); writes
## that file, which the dataset card reads. The ablation's rows: benchmarks/real_transfer.py --help.
REAL_DIR ?= ../shared/data/realdigits
bench-real: $(INSTALLED)
	$(BIN)/python benchmarks/real_transfer.py --real-dir $(REAL_DIR) --rows default --train-size 20000 --test-size 2000 \
		--epochs 5 --seeds 0 1 2 --seed 0 --renormalise --json results/real_transfer.json

clean:
	rm -rf $(VENV) build .pytest_cache .ruff_cache
