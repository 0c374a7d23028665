"""The project's classes at Rasa's own extension points, each named in Rasa's configuration so
that ``rasa run``, ``rasa train`` and ``rasa test`` use the same code:

- ``tracker_store.TrackerStore``: endpoints.yml ``tracker_store: type:`` (corrections 2, 3, 14);
  ``tracker_store.ReadingFailsTrackerStore`` (correction 6), put in place at start-up;
- ``lock_store.LockStore``: endpoints.yml ``lock_store: type:`` (Rasa's in-memory store, or with
  ``LOCK_STORE_TYPE=redis`` its Redis store with correction 20);
- ``spacy_nlp.SpacyNLP`` and ``ted_policy.CachedTEDPolicy``: config.yml (corrections 7 and 8);
- ``server.ServerBlueprint``: the REST channel's blueprint (credentials.yml), with ``/health``,
  ``/metrics`` and the start-up check (correction 17).

What has no extension point is corrected at run time by ``bot.rasa_patches``, which also
numbers every correction, checks the Rasa code each one was written against and reads
``RASA_CORRECTIONS``. This package's modules import Rasa: import them only where Rasa runs.
"""
