"""``python -m bot.console``: start the staff console (``make run`` starts it too)."""
from bot.console.app import main

main()
