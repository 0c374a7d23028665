"""Human handover: a person takes over the conversation, or calls the user back.

- ``schedule``: staffed hours and closing days (file default, console versions, holidays).
- ``queue``: the handover's state in the database (waiting, claimed, handed back, closed,
  timed out), so it holds with several Rasa instances and across restarts.
- ``delivery``: messages to the user's channel through Rasa's HTTP API (and the Telegram
  bridge's ``/push``), Rasa's conversation pause and resume.
- ``service``: claim, reply, hand back, close and the claim time-out, with the audit log.
- ``callbacks``: callback requests, mailed to staff through the outbox.

The assistant's side is ``actions/handover.py`` (asking for a person, the callback form); the
staff's side is the console's ``Overtagelse`` pages (``bot/console/views/handover.py``).
"""
