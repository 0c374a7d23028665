"""Corrections of the Rasa server process itself (``rasa run``'s Sanic app and logging).

4. **``GET /health`` and ``GET /metrics``.** Rasa answers ``GET /`` even before its model is
   loaded and has no metrics. ``configure_app`` (which builds the Sanic app of ``rasa run``) is
   wrapped to add ``/health`` (200 once the model is loaded, else 503: the load balancer's and
   Kubernetes' readiness check) and ``/metrics`` (``bot.metrics``, loopback or a token only).
17. **The loaded model is kept out of Python's full garbage collections.** After loading, the
   process holds about a million objects, none of them garbage; a full collection walked all
   of them (290 ms, the p99 under load). Once the server has started, a collection clears the
   garbage and ``gc.freeze()`` moves the rest out of the collector's generations.
18. **JSON log lines stay JSON.** With ``LOG_FORMAT=json`` Rasa installs coloredlogs on standard
   error after reading ``--logging-config-file``, which would replace the JSON handler.
"""
from __future__ import annotations

from typing import Any

from bot.rasa_patches.actions import close_kept_sessions
from bot.rasa_patches.guard import Correction, Kind, Target, on_restore, replace, wrap

#: Whether correction 17 is selected: the app built by configure_app then freezes after start.
_FREEZE = {"on": False}

async def freeze_loaded_objects(*_: Any) -> None:
    """Correction 17: collect, then move what is left (the loaded model) out of the GC's generations."""
    import gc

    gc.collect()
    gc.freeze()


def _with_health_and_metrics(original: Any) -> Any:
    def configure_app(*args: Any, **kwargs: Any) -> Any:
        from sanic import response

        from bot import metrics

        app = original(*args, **kwargs)

        async def health(request: Any) -> Any:
            agent = getattr(request.app.ctx, "agent", None)
            if agent is None or not agent.is_ready():
                return response.json({"status": "loading"}, status=503)
            return response.json({"status": "ok"})

        async def prometheus(request: Any) -> Any:
            if not metrics.may_read_request(request.ip, request.headers):  # the socket's peer
                return response.json({"error": "not found"}, status=404)
            body, content_type = metrics.exposition()
            return response.raw(body, content_type=content_type)

        async def close_sessions(*_: Any) -> None:  # correction 9's sessions
            await close_kept_sessions()

        app.register_listener(close_sessions, "after_server_stop")
        if _FREEZE["on"]:  # correction 17
            app.register_listener(freeze_loaded_objects, "after_server_start")
        app.add_route(health, "/health", methods=["GET"], name="koege_health")
        app.add_route(prometheus, "/metrics", methods=["GET"], name="koege_metrics")
        return app

    configure_app.__wrapped__ = original  # type: ignore[attr-defined]
    return configure_app


def _install_4() -> None:
    from rasa.core import run

    wrap(run, "configure_app", _with_health_and_metrics)


def _install_17() -> None:
    _FREEZE["on"] = True
    on_restore(lambda: _FREEZE.update(on=False))


def _install_18() -> None:
    import rasa.utils.io

    from bot import settings

    if settings.get("LOG_FORMAT") == "json":
        replace(rasa.utils.io, "configure_colored_logging", lambda _level: None)


CORRECTIONS = (
    Correction(4, "/health and /metrics of the Rasa server", Kind.BEHAVIOUR, (
        Target("rasa.core.run:configure_app", "72da30416f74c648"),
    ), _install_4),
    # a listener of the app that correction 4's configure_app builds
    Correction(17, "the loaded model kept out of full garbage collections", Kind.SPEED, (
        Target("rasa.core.run:configure_app", "72da30416f74c648"),
    ), _install_17),
    Correction(18, "JSON log lines stay JSON", Kind.BEHAVIOUR, (
        Target("rasa.utils.io:configure_colored_logging", "19ab6f36d98048df"),
    ), _install_18),
)
