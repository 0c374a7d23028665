"""Corrections of Rasa's Redis lock store (a conversation's messages handled one at a time by
several workers). Carried by ``bot.rasa_ext.lock_store.RedisLockStore``, which endpoints.yml
names when ``LOCK_STORE_TYPE=redis``; nothing of Rasa's is replaced at run time. The targets are
what the class overrides and the code of Rasa's it still runs, checked when it is built."""
from __future__ import annotations

from bot.rasa_patches.guard import Correction, Kind, Target

CORRECTIONS = (
    Correction(20, "a worker's lock ticket is never lost", Kind.BEHAVIOUR, (
        Target("rasa.core.lock_store:LockStore.lock", "8b9b716c031a3444"),
        Target("rasa.core.lock_store:LockStore._acquire_lock", "ead2fff373291c24"),
        Target("rasa.core.lock_store:LockStore.issue_ticket", "4dfdfb5e62c1dda9"),
        Target("rasa.core.lock_store:LockStore.update_lock", "d56816a13451e7a5"),
        Target("rasa.core.lock_store:LockStore.finish_serving", "ba76ac5a486b97dd"),
        Target("rasa.core.lock_store:LockStore.cleanup", "f2ba1745c8153f92"),
        Target("rasa.core.lock_store:RedisLockStore.__init__", "829e898a8cddff8d"),
        Target("rasa.core.lock:TicketLock.issue_ticket", "e657493ddd22ee74"),
        Target("rasa.core.lock:TicketLock.remove_ticket_for", "5e401fb73dd4c2f2"),
        Target("rasa.core.lock:TicketLock.remove_expired_tickets", "072ce50022e92446"),
    ), carrier="bot.rasa_ext.lock_store.RedisLockStore (endpoints.yml, LOCK_STORE_TYPE=redis)"),
)
