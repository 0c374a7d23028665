"""The Telegram channel: a bridge process (``python -m bot.telegram``) between the Telegram Bot
API (python-telegram-bot) and the assistant's Rasa server (REST channel). See docs/telegram.md.

Modules: ``app`` (handlers, the conversation with Rasa), ``render`` (replies as Telegram HTML
and inline keyboards), ``push`` (the HTTP server: health, push endpoint, webhook), ``server``
(start and stop in one asyncio loop), ``rasa`` (REST client with retries), ``ordering``
(per-chat order, chats concurrent), ``limits`` (Telegram flood limits and retries; per-chat
flood guard).
"""
