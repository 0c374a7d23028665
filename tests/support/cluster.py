"""The production configuration on one machine, for fault tests: several Rasa servers and
action servers behind nginx (``deploy/nginx/koege.conf``), PostgreSQL for the tracker store
and the assistant's data, Redis for the lock store and the rate limits, and the notification
sender, each a separate process on a free port of 127.0.0.1::

    with Cluster(tmp_path, SMTP_HOST="127.0.0.1", SMTP_PORT="2525") as cluster:
        cluster.say("Hej", "some-sender")      # through nginx's public entrance (cluster.url)
        cluster.kill("rasa-1")                 # SIGKILL; nginx skips it
        cluster.start("rasa-1")                # and back
        cluster.wait_ready("rasa-1")

Processes are started as ``python -m bot.cli run`` starts them (``bot.cli.server_commands``),
but each on its own and without the supervisor, so a test decides when one dies and when it
comes back. Names: ``rasa-1`` … ``rasa-N``, ``actions-1`` … ``actions-N``, ``nginx``,
``notifier``, and with ``own_redis``/``own_postgres`` also ``redis`` and ``postgres``.

Databases: by default two fresh databases (tracker store, assistant's data) on the machine's
PostgreSQL server (``MACHINE_POSTGRES``), dropped at the end; with ``own_postgres=True`` a
throwaway PostgreSQL server (``initdb`` + ``postgres`` in the foreground) that a test may stop
and start. Redis: a rarely used database number (5–14) on the machine's Redis, emptied at the
start and the end; with ``own_redis=True`` a throwaway ``redis-server`` that a test may stop.
nginx (Debian's, ``apt-get install -y nginx``) runs in the foreground with its pid file, logs
and temporary files in the folder, with its three listeners: the public entrance
(``cluster.url``), the action servers' port and the internal entrance for Rasa's HTTP API
(``cluster.internal_url``, every process's ``RASA_INTERNAL_URL``). Every process gets the
same secrets in its environment (``RASA_API_TOKEN``, ``ACTION_SERVER_TOKEN``) and
``STATE_DIR`` in the folder.
"""
from __future__ import annotations

import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import requests
import sqlalchemy as sa

from bot.settings import ROOT, SETTINGS
from tests.support import rest
from tests.support.process import Process, http_ok, wait_until
from tests.support.stack import MODEL, free_port

NGINX_TEMPLATE = ROOT / "deploy" / "nginx" / "koege.conf"
MACHINE_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
MACHINE_REDIS_PORT = 6379
REDIS_DBS = range(5, 15)  # each cluster takes one of these; the assistant uses 1 by default, other tests 3, 4 and 15
POSTGRES_BIN = Path("/usr/lib/postgresql/15/bin")
START_TIMEOUT = 600.0  # seconds; a Rasa server loads its model in about a minute on 2 idle cores
#: nginx's ``fail_timeout`` (deploy/nginx/koege.conf): a server that refused a request is left
#: out of the rotation this long, even when it is up again sooner.
NGINX_FAIL_TIMEOUT = 10.0
PLACEHOLDER = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")


def render(template: str, values: Mapping[str, str]) -> str:
    """``template`` with every ``${NAME}`` outside comments replaced by ``values[NAME]``, as
    ``envsubst '$NAME …'`` does; a placeholder without a value is an error."""
    lines = []
    for line in template.splitlines(keepends=True):
        if line.lstrip().startswith("#"):
            lines.append(line)
            continue
        missing = [name for name in PLACEHOLDER.findall(line) if name not in values]
        if missing:
            raise KeyError(f"no value for ${{{missing[0]}}} in {line.strip()!r}")
        lines.append(PLACEHOLDER.sub(lambda m: values[m.group(1)], line))
    return "".join(lines)


def nginx_binary() -> str:
    """Debian's nginx (``/usr/sbin`` is not on every user's PATH)."""
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if found is None:
        raise FileNotFoundError("nginx is not installed: apt-get install -y nginx")
    return found


def _get(url: str, timeout: float = 2.0) -> requests.Response | None:
    try:
        return requests.get(url, timeout=timeout)
    except requests.RequestException:  # refused, or accepted but not answering yet
        return None


def rasa_ready(base: str) -> bool:
    """The Rasa server answers: ``GET /health`` where it exists, else ``GET /`` ("Hello from
    Rasa", which answers only once the model is loaded)."""
    health = _get(f"{base}/health")
    if health is not None and health.ok:
        return True
    root = _get(f"{base}/") if health is not None else None
    return root is not None and root.ok and "Hello from Rasa" in root.text


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


class Cluster:
    """``with Cluster(folder, rasa=2, actions=2, own_postgres=False, own_redis=False,
    **settings) as cluster:`` — see the module's description. ``settings`` are environment
    variables for every process (``SMTP_HOST``, ``CVR_API_URL`` …)."""

    def __init__(self, folder: Path, *, rasa: int = 2, actions: int = 2, own_postgres: bool = False,
                 own_redis: bool = False, **settings: str) -> None:
        if not MODEL.exists():
            raise FileNotFoundError("train the model first: make train")
        if rasa < 1 or actions < 1:
            raise ValueError("at least one Rasa server and one action server")
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.rasa_count, self.actions_count = rasa, actions
        self.own_postgres, self.own_redis = own_postgres, own_redis
        self.settings = settings
        self.services: dict[str, Process] = {}
        self.checks: dict[str, Callable[[], bool]] = {}  # each process's readiness check
        self.nginx_port, self.nginx_actions_port = free_port(), free_port()
        self.nginx_internal_port = free_port()
        self.url = f"http://127.0.0.1:{self.nginx_port}"  # the public entrance, as clients reach it
        #: The internal entrance (Rasa's HTTP API): RASA_INTERNAL_URL of the console and the bridge.
        self.internal_url = f"http://127.0.0.1:{self.nginx_internal_port}"
        self.rasa_ports = {f"rasa-{i}": free_port() for i in range(1, rasa + 1)}
        self.action_ports = {f"actions-{i}": free_port() for i in range(1, actions + 1)}
        self.api_token = secrets.token_urlsafe(24)
        self.action_token = secrets.token_urlsafe(24)
        self.postgres_port = free_port() if own_postgres else 5432
        self.postgres_dir: Path | None = None  # the throwaway server's data (own_postgres)
        self.redis_port = free_port() if own_redis else MACHINE_REDIS_PORT
        self.redis_db = 0
        name = uuid.uuid4().hex[:8]
        self.database_names = {"tracker": f"koege_cluster_tracker_{name}", "bot": f"koege_cluster_bot_{name}"}
        self.tracker_url = self._postgres_url(self.database_names["tracker"])
        self.database = self._postgres_url(self.database_names["bot"])  # BOT_DATABASE_URL
        self._databases_created = False

    # --- set-up ------------------------------------------------------------------------------

    def _postgres_url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.postgres_port}/{database}"

    def environment(self) -> dict[str, str]:
        """What every process of the cluster shares: the production settings and the secrets."""
        return {
            **os.environ,
            "STATE_DIR": str(self.folder / "var"),
            "RASA_API_TOKEN": self.api_token,
            "ACTION_SERVER_TOKEN": self.action_token,
            "TRACKER_URL": self.tracker_url,
            "BOT_DATABASE_URL": self.database,
            "LOCK_STORE_TYPE": "redis",
            "RATE_LIMIT_STORE": "redis",
            "REDIS_HOST": "127.0.0.1",
            "REDIS_PORT": str(self.redis_port),
            "REDIS_DB": str(self.redis_db),
            "RASA_MODEL": str(MODEL),
            "RASA_WORKERS": "1",
            "SANIC_WORKERS": "1",
            "RASA_PUBLIC_URL": self.url,
            "RASA_INTERNAL_URL": self.internal_url,
            "ACTION_SERVER_URL": f"http://127.0.0.1:{self.nginx_actions_port}/webhook",
            "MAIL_DROP_DIR": str(self.folder / "mail"),
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            **self.settings,
        }

    def _add(self, name: str, command: list[str], ready: Callable[[], bool], env: dict[str, str] | None = None,
             stop_signal: int = signal.SIGTERM, user: str | None = None, model_loads: int = 0) -> Process:
        # every start appends to the process's log; each in a process group of its own
        service = Process(name, command, log=self.folder / f"{name}.log", env=env or self.environment(),
                          stop_signal=stop_signal, append=True, user=user, model_loads=model_loads)
        self.services[name], self.checks[name] = service, ready
        return service

    def _define_services(self) -> None:
        python = sys.executable  # the same commands as bot.cli.server_commands
        for name, port in self.action_ports.items():
            env = {**self.environment(), "ACTION_PORT": str(port), "ACTION_INTERFACE": "127.0.0.1"}
            self._add(name, [python, "-m", "actions.server"],
                      lambda port=port: http_ok(f"http://127.0.0.1:{port}/health"), env)
        for name, port in self.rasa_ports.items():
            env = {**self.environment(), "RASA_PORT": str(port), "RASA_INTERFACE": "127.0.0.1",
                   "RASA_LOG_FILE": str(self.folder / f"{name}.rasa.log")}
            self._add(name, [python, "-m", "bot.rasa_server"],
                      lambda port=port: rasa_ready(f"http://127.0.0.1:{port}"), env, model_loads=1)
        notify_port = free_port()  # its /health and /metrics, where the sender has them
        notifier_ready = ((lambda: http_ok(f"http://127.0.0.1:{notify_port}/health"))
                          if "NOTIFY_PORT" in SETTINGS else (lambda: True))
        self._add("notifier", [python, "-m", "bot.booking.notify"], notifier_ready,
                  {**self.environment(), "NOTIFY_PORT": str(notify_port), "NOTIFY_INTERFACE": "127.0.0.1"})
        self._add("nginx", [nginx_binary(), "-p", str(self.folder / "nginx"), "-c", str(self._nginx_conf()),
                            "-e", str(self.folder / "nginx" / "error.log")],
                  lambda: all(map(port_open, (self.nginx_port, self.nginx_actions_port, self.nginx_internal_port))),
                  stop_signal=signal.SIGQUIT)  # graceful: answers in flight are finished

    def nginx_values(self) -> dict[str, str]:
        """The placeholders of deploy/nginx/koege.conf for this cluster."""
        rasa = [f"127.0.0.1:{p}" for p in self.rasa_ports.values()]
        actions = [f"127.0.0.1:{p}" for p in self.action_ports.values()]
        return {"NGINX_BIND": "127.0.0.1", "NGINX_PORT": str(self.nginx_port),
                "NGINX_ACTIONS_PORT": str(self.nginx_actions_port),
                "NGINX_INTERNAL_PORT": str(self.nginx_internal_port),
                "NGINX_LOG_DIR": str(self.folder / "nginx"),
                # the file names two of each; with one, it is named twice (nginx allows that)
                "RASA_1": rasa[0], "RASA_2": rasa[1 % len(rasa)],
                "ACTIONS_1": actions[0], "ACTIONS_2": actions[1 % len(actions)]}

    def _nginx_conf(self) -> Path:
        """deploy/nginx/koege.conf rendered, inside a main configuration for a foreground nginx
        whose pid file, logs and temporary files are in the folder."""
        folder = self.folder / "nginx"
        folder.mkdir(parents=True, exist_ok=True)
        site = folder / "koege.conf"
        site.write_text(render(NGINX_TEMPLATE.read_text(), self.nginx_values()))
        temp = "\n".join(f"    {kind}_temp_path {folder / ('temp-' + kind)};"
                         for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        # As root, nginx's workers would run as nobody, who cannot enter a test folder (mode 700).
        user = "user root;\n" if os.geteuid() == 0 else ""
        main = folder / "nginx.conf"
        main.write_text(
            f"{user}daemon off;\nworker_processes 1;\npid {folder / 'nginx.pid'};\n"
            f"error_log {folder / 'error.log'} notice;\n"
            "events { worker_connections 256; }\n"
            f"http {{\n{temp}\n    include {site};\n}}\n")
        return main

    def _start_redis(self) -> None:
        import redis

        if self.own_redis:
            self._add("redis", ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1",
                                "--save", "", "--appendonly", "no", "--daemonize", "no",
                                "--dir", str(self.folder)],
                      lambda: self._redis_ping(), env=dict(os.environ))
            self.services["redis"].start()
            self._wait(["redis"], 30)
            self.redis_db = 0
            return
        client = redis.Redis(host="127.0.0.1", port=MACHINE_REDIS_PORT)
        client.ping()  # fails loudly when the machine's Redis is not running
        candidates = list(REDIS_DBS)
        random.shuffle(candidates)
        empty = [n for n in candidates if redis.Redis(host="127.0.0.1", port=MACHINE_REDIS_PORT, db=n).dbsize() == 0]
        self.redis_db = (empty or candidates)[0]
        redis.Redis(host="127.0.0.1", port=MACHINE_REDIS_PORT, db=self.redis_db).flushdb()

    def _redis_ping(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(host="127.0.0.1", port=self.redis_port, socket_timeout=1).ping())
        except (redis.RedisError, OSError):
            return False

    def _start_postgres(self) -> None:
        """A throwaway PostgreSQL server: ``initdb`` into a fresh folder, ``postgres`` in the
        foreground on a free port (as the ``postgres`` user when this runs as root)."""
        user = "postgres" if os.geteuid() == 0 else None
        if user:  # the server's user must be able to reach its folder: not the test folder
            self.postgres_dir = Path(tempfile.mkdtemp(prefix="koege-pg-"))
            shutil.chown(self.postgres_dir, user, user)
        else:
            self.postgres_dir = self.folder / "postgres"
            self.postgres_dir.mkdir(exist_ok=True)
        data = self.postgres_dir / "data"
        subprocess.run([str(POSTGRES_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                        "--encoding=UTF8", "--locale=C.UTF-8"], check=True, user=user,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, "LC_ALL": "C.UTF-8"})
        self._add("postgres", [str(POSTGRES_BIN / "postgres"), "-D", str(data), "-p", str(self.postgres_port),
                               "-k", str(self.postgres_dir), "-c", "listen_addresses=127.0.0.1",
                               "-c", "fsync=off", "-c", "max_connections=200"],
                  self._postgres_ready, env=dict(os.environ), stop_signal=signal.SIGINT, user=user)
        self.services["postgres"].start()
        self._wait(["postgres"], 60)

    def _postgres_ready(self) -> bool:
        try:
            engine = sa.create_engine(self._postgres_url("postgres"), poolclass=sa.pool.NullPool)
            with engine.connect() as c:
                c.execute(sa.text("SELECT 1"))
            return True
        except sa.exc.OperationalError:
            return False

    def _create_databases(self) -> None:
        from bot.store import db

        admin = sa.create_engine(self._postgres_url("postgres"), isolation_level="AUTOCOMMIT",
                                 poolclass=sa.pool.NullPool)
        with admin.connect() as c:
            for name in self.database_names.values():
                c.execute(sa.text(f'CREATE DATABASE "{name}"'))
        self._databases_created = True
        db.migrate(self.database)  # as bot.cli run does before it starts the processes
        db.engine(self.database).dispose()

    def _drop_databases(self) -> None:
        from bot.store import db

        db.engine(self.database).dispose()
        admin = sa.create_engine(self._postgres_url("postgres"), isolation_level="AUTOCOMMIT",
                                 poolclass=sa.pool.NullPool)
        with admin.connect() as c:
            for name in self.database_names.values():
                c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def _tracker_tables_exist(self) -> bool:
        engine = sa.create_engine(self.tracker_url, poolclass=sa.pool.NullPool)
        try:
            return sa.inspect(engine).has_table("events")
        except sa.exc.OperationalError:
            return False
        finally:
            engine.dispose()

    def __enter__(self) -> Cluster:
        try:
            if self.own_postgres:
                self._start_postgres()
            self._create_databases()
            self._start_redis()
            self._define_services()
            for name in [*self.action_ports, "notifier", "nginx"]:
                self.services[name].start()
            first, *others = self.rasa_ports
            self.services[first].start()
            # Rasa's SQL tracker store creates its tables when it starts; two servers doing that
            # at the same moment on an empty database can collide, so the others wait for them.
            wait_until(self._tracker_tables_exist, START_TIMEOUT, f"the tracker tables {first} creates",
                       watch=[self.services[first]])
            for name in others:
                self.services[name].start()
            self.wait_ready()
        except BaseException:
            self.__exit__()  # never leave processes or databases behind a failed start
            raise
        return self

    def __exit__(self, *_: object) -> None:
        for name, service in reversed(self.services.items()):
            if name not in ("postgres", "redis"):
                service.stop()
        if self._databases_created and (not self.own_postgres or self.services["postgres"].running()):
            try:
                self._drop_databases()
            except sa.exc.SQLAlchemyError as err:
                print(f"cluster: the test databases were not dropped: {err}", file=sys.stderr)
        if "postgres" in self.services:
            self.services["postgres"].stop()
        if self.postgres_dir is not None and self.postgres_dir != self.folder / "postgres":
            shutil.rmtree(self.postgres_dir, ignore_errors=True)
        if "redis" in self.services:
            self.services["redis"].stop()
        elif self.redis_db:
            import redis

            try:
                redis.Redis(host="127.0.0.1", port=MACHINE_REDIS_PORT, db=self.redis_db).flushdb()
            except (redis.RedisError, OSError):
                pass

    # --- control -----------------------------------------------------------------------------

    def _wait(self, names: list[str], timeout: float) -> None:
        waiting = list(names)

        def ready() -> bool:
            waiting[:] = [name for name in waiting if not self.checks[name]()]
            return not waiting

        try:
            wait_until(ready, timeout, f"{', '.join(names)} ready", watch=[self.services[n] for n in names])
        except TimeoutError as err:
            raise TimeoutError(f"still not ready: {', '.join(waiting)}; {err}") from None

    def wait_ready(self, *names: str, timeout: float = START_TIMEOUT) -> None:
        """Wait until the named processes (default: all that run) answer their health check."""
        self._wait(list(names) or [n for n, s in self.services.items() if s.running()], timeout)

    def wait_in_rotation(self, name: str, timeout: float = START_TIMEOUT) -> None:
        """Wait until a restarted server answers its health check *and* nginx sends it requests
        again: a request it refused while it was down — possibly just before it was ready —
        keeps it out for ``NGINX_FAIL_TIMEOUT``. What an operator waits for before restarting
        the next one."""
        self.wait_ready(name, timeout=timeout)
        time.sleep(NGINX_FAIL_TIMEOUT + 1)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Stop one process abruptly (SIGKILL unless told otherwise) and wait until it is gone."""
        self.services[name].stop(sig)

    def stop(self, name: str) -> None:
        """Stop one process the way an operator does (SIGTERM; nginx SIGQUIT; PostgreSQL fast)."""
        self.services[name].stop()

    def start(self, name: str) -> None:
        """Start a stopped process again, with the same command, port and environment."""
        self.services[name].start()

    def restart(self, name: str, wait: bool = True) -> None:
        self.stop(name)
        self.start(name)
        if wait:
            self.wait_ready(name)

    def running(self, name: str) -> bool:
        return self.services[name].running()

    def log(self, name: str) -> str:
        """Everything the process wrote to standard output and error, over all its starts."""
        return self.services[name].tail(10 ** 9)

    # --- talking to it -----------------------------------------------------------------------

    def post(self, text: str, sender: str, timeout: float = 150) -> requests.Response:
        """One message on the REST channel through nginx, whatever the answer's status."""
        return rest.post(self.url, sender, text, timeout=timeout)

    def say(self, text: str, sender: str | None = None) -> tuple[str, list[dict[str, Any]]]:
        """Send a message on the REST channel through nginx: the reply's texts and buttons."""
        return rest.say(self.url, sender, text, timeout=150)
