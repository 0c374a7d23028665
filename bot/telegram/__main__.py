"""``python -m bot.telegram``: the Telegram bridge process (``make run`` starts it when
``TELEGRAM_BOT_TOKEN`` is set). Without a token it says so in one line and exits 0."""
from __future__ import annotations

import asyncio
import logging
import signal
import sys

from bot import logs, settings
from bot.telegram.app import Config
from bot.telegram.server import serve

OFF = "Telegram is off: TELEGRAM_BOT_TOKEN is not set"


class RedactingFormatter(logging.Formatter):
    """Never writes the bot token, whichever library puts it in a message or traceback."""

    def __init__(self, secrets: list[str], fmt: str) -> None:
        super().__init__(fmt)
        self.secrets = sorted({s for s in secrets if len(s) >= 8}, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text


def setup_logging(config: Config) -> None:
    """The assistant's logging (``bot.logs``: masked personal data), plus: no secret of the
    bridge in any line, and library loggers that would log the token or message texts kept
    above their chatty levels."""
    logs.configure("telegram bridge")
    # the token's secret part on its own too: bot.logs masks its leading digits
    secrets = [config.token, config.token.partition(":")[2], config.push_token, config.webhook_secret]
    for handler in logging.getLogger().handlers:
        handler.setFormatter(RedactingFormatter(secrets, logs.FORMAT))
    level = logging.getLogger().level
    # httpx logs every request URL at INFO, and the URL holds the token; PTB logs request
    # parameters (message texts) at DEBUG. Neither goes below WARNING / INFO, whatever LOG_LEVEL.
    for name in ("httpx", "httpcore", "aiohttp.access"):
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("telegram").setLevel(max(level, logging.INFO))


async def _run(config: Config) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    return await serve(config, stop)


def main() -> int:
    settings.check_or_exit("telegram bridge")
    if not settings.get("TELEGRAM_BOT_TOKEN").strip():
        print(OFF, flush=True)
        return 0
    config = Config.from_settings()
    problem = config.problem()
    if problem:
        print(f"telegram bridge: cannot start: {problem}", file=sys.stderr)
        return 2
    setup_logging(config)
    return asyncio.run(_run(config))


if __name__ == "__main__":
    sys.exit(main())
