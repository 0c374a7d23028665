# Køge Erhvervsbot. `make run` and `make test` set everything up on a fresh machine.
SHELL := /bin/bash
PYTHON310 ?= $(shell command -v python3.10 2>/dev/null || echo /root/.pyenv/versions/3.10.13/bin/python)
VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
STAMP := $(VENV)/.installed
SPACY_MODEL := var/spacy-da/meta.json
MODEL := models/koege.tar.gz
CHROMIUM := /usr/bin/chromium
NGINX := /usr/sbin/nginx
TRAIN_DIRS := data/nlu data/rules data/stories
# The intent classifier also learns from the knowledge base; its training code is
# bot/nlp/ensemble.py's TRAINING_CODE.
TRAIN_FILES := $(shell find $(TRAIN_DIRS) data/knowledge -name '*.yml') domain.yml config.yml \
	$(addprefix bot/nlp/,ensemble.py spelling.py blend_choice.py normalize.py)
export TF_CPP_MIN_LOG_LEVEL := 2
# Training is reproducible: with the seeds config.yml gives, TensorFlow's deterministic ops make
# DIET and TED train to the same weights on the same data (Rasa supports this on the CPU).
TRAINING := TF_DETERMINISTIC_OPS=1
export RASA_TELEMETRY_ENABLED := false

.PHONY: run test train lint nlu-eval nlu-cv corrections-check bench profile spacy-model lock clean vendor

run: $(STAMP) $(MODEL)  ## start the assistant (REST + socket.io on :5005, actions on :5055, chat page on :8080)
	$(PY) -m bot.cli run

test: $(STAMP) $(MODEL) $(CHROMIUM) $(NGINX)  ## unit + integration + browser tests, Rasa data validation, test stories, held-out NLU check
	$(PY) -m ruff check .
	$(RASA) data validate --data $(TRAIN_DIRS) --domain domain.yml --config config.yml
	$(PY) -m pytest
	$(PY) -m bot.rasa_cli test core --model $(MODEL) --stories tests/stories --endpoints endpoints.yml \
		--fail-on-prediction-errors --out var/results/core
	$(PY) -m tools.nlu_eval check --model $(MODEL)

train: $(MODEL)  ## train the model when the training data changed

nlu-eval: $(STAMP) $(SPACY_MODEL)  ## the project's NLU pipeline against two baselines on each held-out set (fails unless ahead on each)
	$(TRAINING) $(PY) -m tools.nlu_eval compare

nlu-cv: $(STAMP) $(SPACY_MODEL)  ## the project against the SVM alone on subsamples of data/nlu and on another domain (fails if below anywhere)
	$(TRAINING) $(PY) -m tools.nlu_eval robust

corrections-check: $(STAMP) $(MODEL)  ## every speed correction of Rasa has a test that fails without it (about 16 minutes)
	$(PY) -m tools.corrections_check

bench: $(STAMP) $(MODEL)  ## the assistant against Rasa's default configuration (plain Rasa in var/bench/), same run, same load
	$(PY) -m tools.bench $(BENCH_ARGS)

profile: $(STAMP) $(MODEL)  ## where the Rasa server's time goes under 10 concurrent conversations (py-spy; PROFILE_ARGS="--process action": the action server's)
	$(PY) -m tools.profile $(PROFILE_ARGS)

lint: $(STAMP)
	$(PY) -m ruff check .

spacy-model: $(SPACY_MODEL)

# The browser tests drive Debian's Chromium (Playwright never downloads a browser here).
# The cluster tests (tests/test_cluster.py) put Debian's nginx in front of two Rasa servers.
$(NGINX):
	@if [ "$$(id -u)" = 0 ]; then apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y nginx-light; \
	else echo "The cluster tests need Debian's nginx: sudo apt-get install nginx-light" >&2; exit 1; fi

$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ]; then apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	else echo "The browser tests need Debian's Chromium: sudo apt-get install chromium" >&2; exit 1; fi

$(STAMP): requirements.lock pyproject.toml
	@test -x $(PY) || $(PYTHON310) -m venv $(VENV)
	@$(PY) -c 'import sys; assert sys.version_info[:2] == (3, 10), "the venv needs Python 3.10"'
	$(PY) -m pip install -q --upgrade pip==24.2
	$(PY) -m pip install -q -r requirements.lock
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	$(PY) -m pip check
	@touch $@

$(SPACY_MODEL): $(STAMP) bot/nlp/pipeline.py bot/nlp/places.py bot/nlp/lemmas.py bot/nlp/normalize.py
	$(PY) -m bot.nlp.pipeline var/spacy-da

$(MODEL): $(STAMP) $(SPACY_MODEL) $(TRAIN_FILES)
	$(TRAINING) $(RASA) train --data $(TRAIN_DIRS) --domain domain.yml --config config.yml \
		--out models --fixed-model-name koege
	@touch $@

lock: $(STAMP)  ## write the resolved dependency set to requirements.lock
	$(PY) -m pip freeze --exclude-editable > requirements.lock

vendor:  ## refresh the committed front-end files (socket.io client, axe-core) from bot/web/package-lock.json
	cd bot/web && npm ci --no-audit --no-fund && npm run vendor

clean:
	rm -rf var models .pytest_cache
