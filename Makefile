# MemScope. Quick start: `make run`, `make test`.
SWIFT    ?= swift
BUILD    := $(SWIFT) build -c release
BIN      := .build/release/memscope
FIXTURES ?= ../shared/fixtures
export MEMSCOPE_FIXTURES := $(abspath $(FIXTURES))

.PHONY: deps build run test unit verify e2e bench model clean

deps:
	@scripts/deps.sh

build: deps
	$(BUILD)

run: build
	$(BIN)

# Unit tests run in release: the numerical tests are slow in debug, and this reuses the build.
unit: build
	$(SWIFT) test -c release

verify: build
	@if ls $(FIXTURES)/*.safetensors >/dev/null 2>&1; then \
	  $(BIN) verify $(FIXTURES)/*.safetensors; \
	else echo "verify: skipped, no fixtures in $(FIXTURES) (set FIXTURES=DIR)"; fi

e2e: build
	@if [ -x tests/e2e.sh ]; then tests/e2e.sh $(BIN); fi

test: unit verify e2e

# Benchmarks print figures; they are not tests. The PyTorch side is opt-in (see bench/README.md)
# and times each measurement for the same BENCH_SECONDS as the Swift side.
BENCH_SECONDS ?= 20
bench: build
	$(BIN) bench --batch 1,8 --train-batch 8 --seconds $(BENCH_SECONDS)
	$(BIN) bench --layers 6 --d-model 192 --heads 3 --d-head 64 --d-inner 768 --mem 192 --batch 1 --train-batch 16 --seconds $(BENCH_SECONDS)
	@MEMSCOPE_BENCH_SECONDS=$(BENCH_SECONDS) bench/run-reference.sh

# Retrains Assets/models/default.safetensors with the command its model card records (about 2 hours on 2 cores).
model: build
	scripts/make-model.sh

clean:
	rm -rf .build

# Faults end to end (issue 8): hostile files and flags, /dev/full, /dev/zero, signals to data prepare; about a minute.
.PHONY: faults
faults: build
	tests/faults.sh $(BIN)
test: faults

# `memscope sweep` end to end with the real binary (issue 10): a tiny two-cell training sweep, stopped and resumed.
.PHONY: sweep-e2e
sweep-e2e: build
	tests/sweep-e2e.sh $(BIN)
test: sweep-e2e

# Hugging Face parity fixtures (opt-in, docs/huggingface.md): transformers 4.57.6 and torch in .venv-hf/, then
# scripts/make-hf-fixtures.py rewrites Tests/Fixtures/hf/. `make test` only reads the committed fixtures.
HF_VENV  ?= .venv-hf
HF_TORCH ?= torch
.PHONY: hf-fixtures
hf-fixtures:
	@test -x $(HF_VENV)/bin/python || python3 -m venv $(HF_VENV)
	@$(HF_VENV)/bin/python -c "import torch, transformers" 2>/dev/null || \
	  $(HF_VENV)/bin/pip install "$(HF_TORCH)" transformers==4.57.6
	$(HF_VENV)/bin/python scripts/make-hf-fixtures.py

# Opt-in (never part of `make test`): the PyTorch trainer in train/. Installs nothing; it needs a virtual
# environment with train/requirements.txt (see train/README.md). ruff format/lint, fixture parity, 1 vs 2 gloo
# processes, export then `memscope eval`, exact resume after SIGTERM and SIGKILL.
TORCH_VENV ?= .venv-torch
.PHONY: test-torch
test-torch: build
	@train/test.sh $(TORCH_VENV) $(BIN)

# Bad Hugging Face model folders (issue 11): eval, info and explore exit 1 with one line naming file and field.
.PHONY: hf-faults
hf-faults: build
	tests/hf-faults.sh $(BIN)
test: hf-faults
