"""Corrections of the Rasa server process itself (``rasa run``'s Sanic app and logging).

4 (``/health`` and ``/metrics``) and 17 (the loaded model kept out of full garbage collections)
are carried by the REST channel's blueprint (``bot.rasa_ext.server``): nothing of Rasa's is
replaced, so they have no targets.

18. **JSON log lines stay JSON.** With ``LOG_FORMAT=json`` Rasa installs coloredlogs on standard
   error after reading ``--logging-config-file``, which would replace the JSON handler. Rasa has
   no setting for it; ``configure_colored_logging`` is replaced by nothing.
"""
from __future__ import annotations

from bot.rasa_patches.guard import Correction, Kind, Target, replace

_BLUEPRINT = "bot.rasa_ext.server.ServerBlueprint (the REST channel, credentials.yml)"


def _install_18() -> None:
    import rasa.utils.io

    from bot import settings

    if settings.get("LOG_FORMAT") == "json":
        replace(rasa.utils.io, "configure_colored_logging", lambda _level: None)


CORRECTIONS = (
    Correction(4, "/health and /metrics of the Rasa server", Kind.BEHAVIOUR, (), carrier=_BLUEPRINT),
    Correction(17, "the loaded model kept out of full garbage collections", Kind.SPEED, (),
               carrier=_BLUEPRINT),
    Correction(18, "JSON log lines stay JSON", Kind.BEHAVIOUR, (
        Target("rasa.utils.io:configure_colored_logging", "19ab6f36d98048df"),
    ), _install_18),
)
