"""The one way the tests and the development tools start a server process and wait for it.

``Process`` starts a command with an environment, its standard output and error in a log
file, in a process group of its own (or not), and stops it with a signal (SIGTERM unless told
otherwise), then SIGKILL after a grace period; a context manager::

    with Process("web", [sys.executable, "-m", "bot.web.server"], env=env, log=folder / "web.log") as web:
        web.wait_until(lambda: http_ok(url + "/health"), 60, "the web server's /health")

``wait_until(predicate, timeout, what)`` polls until ``predicate()`` is true and returns its
value; when a watched process stops first, or the time is up, it raises with the tail of the
processes' logs, so a failed start says why. ``BotStack`` (tests/support/stack.py), the
cluster's processes (tests/support/cluster.py) and ``tools.baseline.BaselineServer`` use both.
"""
from __future__ import annotations

import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TypeVar

import requests

from bot.settings import ROOT

T = TypeVar("T")
STOP_TIMEOUT = 30.0  # seconds between the stop signal and SIGKILL
TAIL = 4000  # characters of a log quoted in an error
#: Starts in this Python process, by process name, and the models the started processes load
#: (tests/conftest.py reports them at the end of a test run).
STARTS: Counter[str] = Counter()
MODEL_LOADS: Counter[str] = Counter()


class ProcessError(RuntimeError):
    """A process stopped while something waited for it."""


def tail(log: Path, chars: int = TAIL) -> str:
    """The end of a log file ('' when there is none)."""
    try:
        return log.read_text(errors="replace")[-chars:]
    except FileNotFoundError:
        return ""


class Process:
    """One server process: ``name`` (for messages), ``command``, ``env`` (default: this
    process's environment), ``log`` (standard output and error; truncated at each start unless
    ``append``), ``cwd`` (default: the project), ``stop_signal``, ``group`` (a session and
    process group of its own, signalled as a whole), ``user`` (run as this user),
    ``model_loads`` (how many times the process loads the trained model when it starts: one
    per Rasa worker; counted in ``MODEL_LOADS``)."""

    def __init__(self, name: str, command: Sequence[str], *, log: Path, env: Mapping[str, str] | None = None,
                 cwd: Path = ROOT, stop_signal: int = signal.SIGTERM, group: bool = True,
                 append: bool = False, user: str | None = None, model_loads: int = 0) -> None:
        self.name, self.command, self.log, self.model_loads = name, list(command), log, model_loads
        self.env = dict(os.environ if env is None else env)
        self.cwd, self.stop_signal, self.group, self.append, self.user = cwd, stop_signal, group, append, user
        self.popen: subprocess.Popen | None = None
        self.started = 0.0  # time.perf_counter() at the latest start

    # --- life -------------------------------------------------------------------------------

    def start(self) -> Process:
        if self.running():
            raise RuntimeError(f"{self.name} is already running")
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("a" if self.append else "w") as out:
            if self.append:
                out.write(f"\n--- {self.name} started {time.strftime('%H:%M:%S')} ---\n")
                out.flush()
            self.started = time.perf_counter()
            self.popen = subprocess.Popen(self.command, cwd=self.cwd, env=self.env, stdout=out,
                                          stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                          start_new_session=self.group, user=self.user)
        STARTS[self.name] += 1
        if self.model_loads:
            MODEL_LOADS[self.name] += self.model_loads
        return self

    @property
    def pid(self) -> int | None:
        return None if self.popen is None else self.popen.pid

    def poll(self) -> int | None:
        """The exit code, or None while it runs (or before it started)."""
        return None if self.popen is None else self.popen.poll()

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def exited(self) -> bool:
        """Started and stopped since."""
        return self.popen is not None and self.popen.poll() is not None

    def signal(self, sig: int) -> None:
        """``sig`` to the process (with ``group``: to everything it started, too)."""
        if not self.running():
            return
        assert self.popen is not None
        try:
            if self.group:
                os.killpg(self.popen.pid, sig)
            else:
                self.popen.send_signal(sig)
        except ProcessLookupError:
            pass

    def wait(self, timeout: float | None = None) -> int:
        assert self.popen is not None, f"{self.name} was never started"
        return self.popen.wait(timeout=timeout)

    def stop(self, sig: int | None = None, timeout: float = STOP_TIMEOUT) -> int | None:
        """Stop it (``stop_signal`` unless told otherwise) and wait; SIGKILL after ``timeout``.
        Returns the exit code (None if it was never started)."""
        if self.popen is None:
            return None
        self.signal(self.stop_signal if sig is None else sig)
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return self.popen.wait(timeout=10)

    def kill(self) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        try:
            if self.group:
                os.killpg(self.popen.pid, signal.SIGKILL)
            else:
                self.popen.kill()
        except ProcessLookupError:
            pass

    def tail(self, chars: int = TAIL) -> str:
        return tail(self.log, chars)

    def wait_until(self, predicate: Callable[[], T], timeout: float, what: str, interval: float = 1.0) -> T:
        """:func:`wait_until`, watching this process."""
        return wait_until(predicate, timeout, what, watch=[self], interval=interval)

    def __enter__(self) -> Process:
        return self.start() if self.popen is None else self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running() else ("stopped" if self.exited() else "not started")
        return f"<Process {self.name} pid={self.pid} {state}>"


def wait_until(predicate: Callable[[], T], timeout: float, what: str, *, watch: Iterable[Process] = (),
               interval: float = 1.0) -> T:
    """Call ``predicate`` every ``interval`` seconds until it returns something true, and return
    that. Raises ``ProcessError`` when one of the ``watch`` processes stops first, and
    ``TimeoutError`` after ``timeout`` seconds; both name ``what`` and quote the logs."""
    watched = list(watch)
    deadline = time.monotonic() + timeout
    while True:
        found = predicate()
        if found:
            return found
        for process in watched:
            if process.exited():
                raise ProcessError(f"{process.name} stopped with exit code {process.poll()} while waiting for "
                                   f"{what} (log {process.log}):\n{process.tail()}")
        if time.monotonic() > deadline:
            logs = "".join(f"\n--- {p.name} ({p.log}) ---\n{p.tail(TAIL // max(len(watched), 1))}" for p in watched)
            raise TimeoutError(f"not after {timeout:.0f} s: {what}{logs}")
        time.sleep(interval)


def http_ok(url: str, timeout: float = 2.0) -> bool:
    """``GET url`` answers 2xx (not refused, not hanging)."""
    try:
        return requests.get(url, timeout=timeout).ok
    except requests.RequestException:  # refused, or accepted but not answering yet
        return False
