"""The assistant's own data, through SQLAlchemy: bookings, notifications, feedback (``db``,
``models``), and retention of the tracker store's conversation logs (``retention``)."""
