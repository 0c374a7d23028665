"""Staff users of the console: names, roles (reviewer | admin), argon2id password hashes,
sign-in back-off and the session generation that ends a member's sessions.

``authenticate`` is the one sign-in check. It gives nothing away about which names exist: it
always runs the password hash (a dummy hash for unknown names; also for disabled accounts and
during a back-off) and counts failures the same way for every name.

Failures are counted per (name, source address), not per account, so nobody can lock a member
of staff out by guessing from elsewhere: ``MAX_FAILURES`` wrong sign-ins in a row from one
address are allowed; the next one refuses that name from that address for ``LOCK_MINUTES``
(even the right password), while the same name still signs in from any other address. A right
password resets the pair's count, a new password every pair of the name. The counts live in the
database (table ``staff_sign_in_failures``, digests only), so every console process sees them.

``session_generation`` is copied into the session at sign-in; ``end_sessions`` (sign-out),
``set_password`` and ``disable`` raise it, which ends every session of the member at its next
request, also a copied cookie.
"""
from __future__ import annotations

import datetime as dt
import enum
import hashlib
import hmac
import re
from dataclasses import dataclass

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from bot.store import audit, db
from bot.store.models import ADMIN, REVIEWER, SignInFailure, StaffUser, utcnow

ROLES = (REVIEWER, ADMIN)
MAX_FAILURES = 5  # the 6th wrong sign-in in a row from one address starts the back-off
LOCK_MINUTES = 5  # back-off of one (name, address) pair
FORGET_HOURS = 24  # a pair's failures are forgotten after this long without one
MIN_PASSWORD = 12
MAX_PASSWORD = 1024
NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")

_hasher = PasswordHasher()  # argon2id with the library's recommended parameters
_DUMMY_HASH = _hasher.hash("not a real password, for equal timing")


class StaffError(ValueError):
    """A name, role or password that cannot be used; the message says why (in Danish)."""


class Outcome(enum.Enum):
    OK = "ok"
    WRONG = "wrong"  # unknown name or wrong password: the same answer to the user
    LOCKED = "locked"  # locked now, or by this attempt
    DISABLED = "disabled"


@dataclass(frozen=True)
class Staff:
    id: int
    name: str
    role: str
    active: bool
    locked_until: dt.datetime | None  # no longer set (migration 0005 counts per address)
    last_sign_in_at: dt.datetime | None
    session_generation: int = 0

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN


@dataclass(frozen=True)
class Attempt:
    outcome: Outcome
    user: Staff | None = None
    just_locked: bool = False


def _staff(row: StaffUser) -> Staff:
    return Staff(row.id, row.name, row.role, row.active, row.locked_until, row.last_sign_in_at,
                 row.session_generation or 0)


def check_name(name: str) -> str:
    name = name.strip().lower()
    if not NAME.match(name):
        raise StaffError("Navnet skal være 2-64 tegn: små bogstaver, tal, punktum, bindestreg eller understreg.")
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise StaffError(f"Adgangskoden skal være mindst {MIN_PASSWORD} tegn.")
    if len(password) > MAX_PASSWORD:
        raise StaffError(f"Adgangskoden må højst være {MAX_PASSWORD} tegn.")
    return password


def add(name: str, password: str, role: str = REVIEWER, url: str | None = None) -> Staff:
    if role not in ROLES:
        raise StaffError(f"Rollen skal være {' eller '.join(ROLES)}.")
    name, hashed = check_name(name), _hasher.hash(check_password(password))
    with db.session(url) as s:
        if s.scalar(sa.select(StaffUser.id).where(StaffUser.name == name)) is not None:
            raise StaffError(f"Der findes allerede en medarbejder med navnet {name}.")
        row = StaffUser(name=name, role=role, password_hash=hashed, active=True, failed_attempts=0)
        s.add(row)
        s.flush()
        return _staff(row)


def get(user_id: int, url: str | None = None) -> Staff | None:
    with db.session(url) as s:
        row = s.get(StaffUser, user_id)
        return _staff(row) if row else None


def by_name(name: str, url: str | None = None) -> Staff | None:
    with db.session(url) as s:
        row = s.scalars(sa.select(StaffUser).where(StaffUser.name == name.strip().lower())).first()
        return _staff(row) if row else None


def everyone(url: str | None = None) -> list[Staff]:
    with db.session(url) as s:
        return [_staff(r) for r in s.scalars(sa.select(StaffUser).order_by(StaffUser.name))]


def _row(s: sa.orm.Session, name: str) -> StaffUser:
    row = s.scalars(sa.select(StaffUser).where(StaffUser.name == name.strip().lower())).first()
    if row is None:
        raise StaffError(f"Ingen medarbejder hedder {name}.")
    return row


def disable(name: str, url: str | None = None) -> None:
    """Disable the account; its sessions end at their next request."""
    with db.session(url) as s:
        row = _row(s, name)
        row.active = False
        row.session_generation = (row.session_generation or 0) + 1


def set_password(name: str, password: str, url: str | None = None) -> None:
    """A new password; also re-enables a disabled account, lifts every back-off of the name
    and ends every session of the member (a stolen cookie dies with the old password)."""
    hashed = _hasher.hash(check_password(password))
    with db.session(url) as s:
        row = _row(s, name)
        row.password_hash, row.active, row.failed_attempts, row.locked_until = hashed, True, 0, None
        row.session_generation = (row.session_generation or 0) + 1
        s.execute(sa.delete(SignInFailure).where(SignInFailure.name_key == _digest(row.name)))


def end_sessions(user_id: int, url: str | None = None) -> None:
    """End every session of the member (sign-out): sessions carry the generation of their
    sign-in, and the console refuses one whose generation is no longer the member's."""
    with db.session(url) as s:
        s.execute(sa.update(StaffUser).where(StaffUser.id == user_id)
                  .values(session_generation=StaffUser.session_generation + 1))


def _digest(*parts: str) -> str:
    """A keyed digest (HMAC under the audit log's key): an IPv4 address cannot be found again by
    trying every address, as it could from a plain hash."""
    message = "\0".join(("koege-staff-sign-in", *parts)).encode()
    return hmac.new(audit.audit_key(), message, hashlib.sha256).hexdigest()


def authenticate(name: str, password: str, now: dt.datetime | None = None,
                 url: str | None = None, source: str = "") -> Attempt:
    """Check a sign-in from ``source`` (the client's address) and count failures of the
    (name, source) pair. Whether the name exists or not, an attempt does the same work: one
    password hash (also during a back-off and for a disabled account) and, when it fails, the
    same reads and writes. The pair's row is locked for the check, so parallel attempts cannot
    slip past the limit."""
    now = now or utcnow()
    password = password[:MAX_PASSWORD]
    name = name.strip().lower()
    pair, name_key = _digest(name, source), _digest(name)
    with db.session(url) as s:
        failure = s.scalars(sa.select(SignInFailure).where(SignInFailure.pair == pair).with_for_update()).first()
        row = s.scalars(sa.select(StaffUser).where(StaffUser.name == name)).first()
        right = _verify(row.password_hash if row is not None else _DUMMY_HASH, password)
        user = _staff(row) if row is not None else None
        if failure is not None and failure.locked_until and failure.locked_until > now:
            return Attempt(Outcome.LOCKED, user)
        if row is not None and row.active and right:
            if failure is not None:
                s.delete(failure)
            row.last_sign_in_at = now
            if _hasher.check_needs_rehash(row.password_hash):
                row.password_hash = _hasher.hash(password)
            return Attempt(Outcome.OK, _staff(row))
        failure = _count_failure(s, failure, pair, name_key, now)
        if failure.failures > MAX_FAILURES:
            failure.locked_until = now + dt.timedelta(minutes=LOCK_MINUTES)
            return Attempt(Outcome.LOCKED, user, just_locked=True)
        return Attempt(Outcome.DISABLED if row is not None and not row.active else Outcome.WRONG, user)


def _count_failure(s: sa.orm.Session, failure: SignInFailure | None, pair: str, name_key: str,
                   now: dt.datetime) -> SignInFailure:
    """One more failure of the pair (a fresh count after a back-off or a long quiet spell);
    pairs nobody has tried for ``FORGET_HOURS`` are deleted on the way."""
    forget = now - dt.timedelta(hours=FORGET_HOURS)
    stale = (sa.select(SignInFailure.pair)
             .where(SignInFailure.last_failure_at < forget, SignInFailure.pair != pair,
                    sa.or_(SignInFailure.locked_until.is_(None), SignInFailure.locked_until < now))
             .limit(100).with_for_update(skip_locked=True))
    s.execute(sa.delete(SignInFailure).where(SignInFailure.pair.in_(stale)).execution_options(synchronize_session=False))
    if failure is None:
        _insert_pair(s, pair, name_key, now)
        failure = s.scalars(sa.select(SignInFailure).where(SignInFailure.pair == pair).with_for_update()
                            .execution_options(populate_existing=True)).one()
    if (failure.locked_until is not None and failure.locked_until <= now) or failure.last_failure_at < forget:
        failure.failures, failure.locked_until = 0, None
    failure.failures += 1
    failure.last_failure_at = now
    return failure


def _insert_pair(s: sa.orm.Session, pair: str, name_key: str, now: dt.datetime) -> None:
    """The pair's row with no failures yet, unless a parallel attempt has just made it."""
    values = {"pair": pair, "name_key": name_key, "failures": 0, "last_failure_at": now}
    dialect = s.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        s.execute(pg_insert(SignInFailure).values(values).on_conflict_do_nothing(index_elements=["pair"]))
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        s.execute(sqlite_insert(SignInFailure).values(values).on_conflict_do_nothing(index_elements=["pair"]))
    else:
        s.execute(sa.insert(SignInFailure).values(values))


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
