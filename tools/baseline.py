"""Rasa's default configuration as ``make bench``'s baseline: a plain Rasa installation, the
configuration ``rasa init`` writes, the project's data and domain, and a trained-model cache.

- The installation: ``pip install rasa==3.6.21`` in its own virtual environment
  (``var/bench/rasa-default-venv``), what a user gets, so that whatever the project pins,
  patches or configures is measured against it. Created once, reused while ``rasa --version``
  works.
- The configuration: ``rasa init``'s ``config.yml`` for Rasa 3.6.21 with ``language: da``;
  its ``pipeline:`` and ``policies:`` are empty, so Rasa fills in its defaults (DIET,
  ResponseSelector, TED, UnexpecTED, …).
- Training (:func:`train_cached`): ``rasa train`` on ``data/nlu``, ``data/rules``,
  ``data/stories`` and ``domain.yml`` with an empty Rasa cache, so the time taken is a whole
  training; the model and its training time are kept in ``var/bench/models/`` under a hash of
  everything the training reads (:func:`cache_key`). The project's own model is trained the
  same way by ``tools.bench`` for its training time.
- The server (:class:`BaselineServer`): ``rasa run`` on 127.0.0.1 with a plain ``rest:``
  channel, in-memory tracker and lock stores, and the project's running action server
  (its URL and ``X-Action-Token`` in an ``endpoints.yml`` of its own).

``python -m tools.baseline setup`` creates the environment and trains the model ahead of a
benchmark (about 20 minutes on 2 cores; in the background:
``nohup .venv/bin/python -m tools.baseline setup > var/bench/baseline-setup.log 2>&1 &``);
``python -m tools.baseline status`` says what is ready. Logs: ``var/bench/logs/``.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.settings import ROOT
from tests.support.process import Process

RASA_VERSION = "3.6.21"
BENCH_DIR = ROOT / "var" / "bench"
VENV = BENCH_DIR / "rasa-default-venv"
MODELS = BENCH_DIR / "models"
LOGS = BENCH_DIR / "logs"
TRAIN_DIRS = ("data/nlu", "data/rules", "data/stories")
KEEP_MODELS = 3  # cached models kept per configuration
PYTHON310 = shutil.which("python3.10") or "/root/.pyenv/versions/3.10.13/bin/python"

#: ``rasa/cli/initial_project/config.yml`` of Rasa 3.6.21 with ``language: da`` instead of ``en``
#: (tests/test_bench.py compares it with the installed file).
CONFIG = """\
# The config recipe.
# https://rasa.com/docs/rasa/model-configuration/
recipe: default.v1

# The assistant project unique identifier
# This default value must be replaced with a unique assistant name within your deployment
assistant_id: placeholder_default

# Configuration for Rasa NLU.
# https://rasa.com/docs/rasa/nlu/components/
language: da

pipeline:
# No configuration for the NLU pipeline was provided: Rasa's default pipeline is used.

# Configuration for Rasa Core.
# https://rasa.com/docs/rasa/core/policies/
policies:
# No configuration for policies was provided: Rasa's default policies are used.
"""

#: Only Rasa's own REST channel: none of the project's channel checks.
CREDENTIALS = "rest:\n"


def _env() -> dict[str, str]:
    return {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2",
            "PYTHONNOUSERSITE": "1"}


def rasa_executable(venv: Path = VENV) -> Path:
    return venv / "bin" / "rasa"


def installed(venv: Path = VENV) -> bool:
    """Whether ``venv`` has a working Rasa of :data:`RASA_VERSION`."""
    rasa = rasa_executable(venv)
    if not rasa.exists():
        return False
    try:
        out = subprocess.run([str(rasa), "--version"], capture_output=True, text=True, timeout=300,
                             env=_env(), cwd=tempfile.gettempdir())
    except (OSError, subprocess.TimeoutExpired):
        return False
    found = re.search(r"^Rasa Version\s*:\s*(\S+)", out.stdout, re.MULTILINE)
    return out.returncode == 0 and found is not None and found.group(1) == RASA_VERSION


def ensure_venv(venv: Path = VENV, log: Path | None = None) -> Path:
    """The baseline's ``rasa`` executable, after creating the environment if needed."""
    if installed(venv):
        return rasa_executable(venv)
    if venv.exists():
        shutil.rmtree(venv)  # a half-made environment from an interrupted run
    venv.parent.mkdir(parents=True, exist_ok=True)
    log = log or LOGS / "baseline-venv.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    print(f"baseline: creating {venv} (pip install rasa=={RASA_VERSION}, several minutes; log {log})",
          flush=True)
    python = str(venv / "bin" / "python")
    with log.open("a") as out:
        for command in ([PYTHON310, "-m", "venv", str(venv)],
                        [python, "-m", "pip", "install", "--upgrade", "pip"],  # as Rasa's install docs say
                        [python, "-m", "pip", "install", f"rasa=={RASA_VERSION}"]):
            out.write(f"$ {' '.join(command)}\n")
            out.flush()
            subprocess.run(command, check=True, stdout=out, stderr=subprocess.STDOUT, env=_env())
    if not installed(venv):
        raise RuntimeError(f"baseline: rasa --version does not work in {venv}; see {log}")
    return rasa_executable(venv)


def _files(paths: Iterable[Path]) -> Iterator[Path]:
    """The files of ``paths`` (files and folders, recursively), without Python's byte-code."""
    for path in sorted(paths):
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*")
                              if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc")
        elif path.is_file():
            yield path


def _content(path: Path) -> bytes:
    """What of a file training learns from: a domain without its ``responses`` (their wording
    changes what the assistant says, not what it learns), any other file as it is."""
    if path.name != "domain.yml":
        return path.read_bytes()
    domain = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(domain, dict):
        return path.read_bytes()
    domain.pop("responses", None)
    return json.dumps(domain, sort_keys=True, ensure_ascii=False, default=str).encode()


def cache_key(inputs: Iterable[Path], config: str, root: Path = ROOT, rasa_version: str = RASA_VERSION) -> str:
    """A hash of every training input (file names relative to ``root`` and what training
    learns from them), the configuration text and the Rasa version."""
    digest = hashlib.sha256(f"rasa {rasa_version}\n{config}".encode())
    for path in _files(root / p for p in inputs):
        digest.update(b"\0" + str(path.relative_to(root)).encode() + b"\0" + _content(path))
    return digest.hexdigest()[:20]


@dataclass(frozen=True)
class Training:
    """One model to train (or take from the cache): which Rasa, which configuration, which inputs."""

    name: str
    rasa: Path
    config: str  # the configuration's text
    data: tuple[str, ...] = TRAIN_DIRS  # rasa train --data
    extra: tuple[str, ...] = ()  # more inputs of the training (code, a spaCy pipeline), for the key
    root: Path = ROOT  # where training runs: the paths above are relative to it

    def key(self) -> str:
        return cache_key((*self.data, "domain.yml", *self.extra), self.config, self.root)

    def model(self) -> Path:
        """Where the model for the current inputs is cached."""
        return MODELS / f"{self.name}-{self.key()}.tar.gz"


def train_cached(job: Training, log: Path | None = None) -> tuple[Path, dict]:
    """The trained model and what is known about its training (``seconds``, ``trained_at``,
    ``cached``). Trains when the cache has no model for the inputs; one training at a time.
    The key is taken before training: inputs edited while it runs make the next run train again."""
    MODELS.mkdir(parents=True, exist_ok=True)
    key = job.key()
    model, info = MODELS / f"{job.name}-{key}.tar.gz", MODELS / f"{job.name}-{key}.json"
    with (MODELS / f"{job.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another bench run training the same model waits
        if model.exists() and info.exists():
            return model, {**json.loads(info.read_text()), "cached": True}
        log = log or LOGS / f"train-{job.name}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        print(f"{job.name}: training (no model for these inputs in {MODELS}; log {log})", flush=True)
        with tempfile.TemporaryDirectory(dir=BENCH_DIR) as tmp:
            config = Path(tmp) / "config.yml"
            config.write_text(job.config)
            command = [str(job.rasa), "train", "--data", *job.data, "--domain", "domain.yml",
                       "--config", str(config), "--out", tmp, "--fixed-model-name", "model"]
            # an empty cache: the whole training is timed, and the project's .rasa/ is left alone
            env = {**_env(), "RASA_CACHE_DIRECTORY": str(Path(tmp) / "cache")}
            started = time.perf_counter()
            with log.open("w") as out:
                done = subprocess.run(command, cwd=job.root, env=env, stdout=out, stderr=subprocess.STDOUT)
            seconds = time.perf_counter() - started
            if done.returncode != 0 or not (Path(tmp) / "model.tar.gz").exists():
                raise RuntimeError(f"{job.name}: training failed; see {log}")
            os.replace(Path(tmp) / "model.tar.gz", model)
        if job.key() != key:
            print(f"{job.name}: the inputs changed during training; the next run trains again", flush=True)
        details = {"seconds": round(seconds, 1), "trained_at": dt.datetime.now().isoformat(timespec="seconds"),
                   "key": key, "config": job.config}
        info.write_text(json.dumps(details, indent=1))
        prune(job.name)
        return model, {**details, "cached": False}


def prune(name: str, keep: int = KEEP_MODELS) -> None:
    """Remove all but the ``keep`` newest cached models of ``name`` (about 70 MB each)."""
    models = sorted(MODELS.glob(f"{name}-*.tar.gz"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in models[keep:]:
        old.unlink(missing_ok=True)
        old.with_name(old.name.removesuffix(".tar.gz") + ".json").unlink(missing_ok=True)


def baseline_training(rasa: Path | None = None) -> Training:
    return Training("rasa-default", rasa or rasa_executable(), CONFIG)


def endpoints_yml(action_url: str, token: str) -> str:
    """The baseline's endpoints: the project's action server with its token; Rasa's default
    (in-memory) tracker and lock stores."""
    return ("action_endpoint:\n"
            f"  url: {json.dumps(action_url)}\n"
            "  headers:\n"
            f"    X-Action-Token: {json.dumps(token)}\n")


class BaselineServer:
    """``with BaselineServer(model, action_url, token, folder) as server: ...`` — ``rasa run``
    of the plain installation on a free port of 127.0.0.1 (a ``tests.support.process.Process``:
    ``server.process.started`` is when it was started, ``time.perf_counter()``, for the start-up
    time). Entering starts it and returns at once (``tools.bench.first_answer`` waits for it)."""

    def __init__(self, model: Path, action_url: str, token: str, folder: Path, port: int,
                 venv: Path = VENV, log: Path = LOGS / "baseline-rasa.log") -> None:
        """``folder``: a private folder for its endpoints.yml (which holds the token)."""
        self.folder, self.port = folder, port
        self.url = f"http://127.0.0.1:{port}"
        self.log = log
        endpoints, credentials = folder / "endpoints.yml", folder / "credentials.yml"
        endpoints.write_text(endpoints_yml(action_url, token))
        endpoints.chmod(0o600)
        credentials.write_text(CREDENTIALS)
        command = [str(rasa_executable(venv)), "run", "--enable-api", "--interface", "127.0.0.1",
                   "--port", str(port), "--endpoints", str(endpoints), "--credentials",
                   str(credentials), "--model", str(model)]
        self.process = Process("Rasa default", command, log=log, env=_env(), cwd=folder, stop_signal=signal.SIGINT)

    def __enter__(self) -> BaselineServer:
        self.process.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.process.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="the benchmark's baseline: Rasa's default configuration")
    parser.add_argument("command", choices=["setup", "status"],
                        help="setup: create the environment and train the model; status: what is cached")
    args = parser.parse_args(argv)
    job = baseline_training()
    if args.command == "status":
        print(f"environment {VENV}: {'ready' if installed() else 'missing'}")
        print(f"model {job.model()}: {'cached' if job.model().exists() else 'not trained'}")
        return 0
    job = baseline_training(ensure_venv())
    with contextlib.suppress(KeyboardInterrupt):
        model, info = train_cached(job)
        print(f"baseline model: {model} ({'cached' if info['cached'] else 'trained'}, "
              f"training took {info['seconds']:.0f} s)")
        return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
