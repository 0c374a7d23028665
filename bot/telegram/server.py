"""Runs the bridge: PTB's ``Application`` (long polling, or updates from the webhook route) and
the aiohttp server (health, push, webhook) in one asyncio loop, started and stopped by hand
rather than with ``run_polling``, which would own the loop."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress

from aiohttp import web
from telegram import Update
from telegram.error import InvalidToken, TelegramError

from bot.telegram.app import Bridge, Config
from bot.telegram.push import READY, make_app

log = logging.getLogger("bot.telegram")


async def _until_done(what: str, action: Callable[[], Awaitable[object]]) -> None:
    """Retry ``action`` with back-off while Telegram cannot be reached (a bridge that stopped
    here would stop every process of ``make run``); a wrong token stops at once."""
    delay = 1.0
    while True:
        try:
            await action()
            return
        except InvalidToken:
            raise
        except TelegramError as err:
            log.warning("%s: Telegram not reachable (%s); retrying in %.0f s", what,
                        type(err).__name__, delay)
        await asyncio.sleep(delay)
        delay = min(delay * 2, 30.0)


def _polling_failed(err: TelegramError) -> None:
    """One line instead of PTB's traceback; PTB retries with back-off (1 s, 1.5 s … 30 s)."""
    log.warning("polling Telegram for updates failed (%s); retrying", type(err).__name__)


async def connect(bridge: Bridge) -> None:
    """Connect to Telegram and start receiving updates."""
    app, config = bridge.application, bridge.config
    await _until_done("start", app.initialize)  # getMe
    await bridge.rasa.start()
    try:
        await bridge.register_commands()
    except TelegramError as err:  # the menu is a convenience: start without it
        log.warning("could not register the command menu (%s)", type(err).__name__)
    await app.start()
    if config.webhook_url:
        await _until_done("setWebhook", lambda: app.bot.set_webhook(
            config.webhook_url, secret_token=config.webhook_secret, allowed_updates=Update.ALL_TYPES))
    else:
        await app.updater.start_polling(allowed_updates=Update.ALL_TYPES, bootstrap_retries=-1,
                                        error_callback=_polling_failed)


async def disconnect(bridge: Bridge) -> None:
    app = bridge.application
    with suppress(Exception):
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
    with suppress(Exception):
        if app.running:
            await app.stop()
    with suppress(Exception):
        await app.shutdown()
    await bridge.rasa.close()


async def serve(config: Config, stop: asyncio.Event) -> int:
    """Run the bridge until ``stop`` is set; the exit code."""
    bridge = Bridge(config)
    runner = web.AppRunner(make_app(bridge), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, config.interface, config.port)
    await site.start()
    log.info("Telegram bridge listening on %s:%d (health, push%s)", config.interface, config.port,
             ", webhook" if config.webhook_url else "")
    code = 0
    try:
        connecting = asyncio.create_task(connect(bridge))
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({connecting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if connecting.done():
            stopping.cancel()
            connecting.result()
            runner.app[READY]["ready"] = True
            log.info("Telegram bridge connected as @%s (%s)", bridge.application.bot.username,
                     config.mode)
            await stop.wait()
        else:
            connecting.cancel()
            with suppress(asyncio.CancelledError, Exception):
                await connecting
    except InvalidToken:
        log.error("Telegram refused TELEGRAM_BOT_TOKEN: check the token from BotFather")
        code = 1
    finally:
        runner.app[READY]["ready"] = False
        await disconnect(bridge)
        await runner.cleanup()
        log.info("Telegram bridge stopped")
    return code
