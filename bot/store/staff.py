"""Staff users of the console: names, roles (reviewer | admin), argon2id password hashes and
lock-out after repeated wrong passwords.

``authenticate`` is the one sign-in check. ``MAX_FAILURES`` wrong passwords in a row are
allowed; the next one locks the account for ``LOCK_MINUTES`` (while locked, even the right
password is refused). A right password resets the count.
"""
from __future__ import annotations

import datetime as dt
import enum
import re
from dataclasses import dataclass

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from bot.store import db
from bot.store.models import ADMIN, REVIEWER, StaffUser, utcnow

ROLES = (REVIEWER, ADMIN)
MAX_FAILURES = 5  # the 6th wrong password in a row locks the account
LOCK_MINUTES = 15
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
    locked_until: dt.datetime | None
    last_sign_in_at: dt.datetime | None

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN


@dataclass(frozen=True)
class Attempt:
    outcome: Outcome
    user: Staff | None = None
    just_locked: bool = False


def _staff(row: StaffUser) -> Staff:
    return Staff(row.id, row.name, row.role, row.active, row.locked_until, row.last_sign_in_at)


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
    with db.session(url) as s:
        _row(s, name).active = False


def set_password(name: str, password: str, url: str | None = None) -> None:
    """A new password; also re-enables a disabled account and lifts a lock."""
    hashed = _hasher.hash(check_password(password))
    with db.session(url) as s:
        row = _row(s, name)
        row.password_hash, row.active, row.failed_attempts, row.locked_until = hashed, True, 0, None


def authenticate(name: str, password: str, now: dt.datetime | None = None,
                 url: str | None = None) -> Attempt:
    """Check a sign-in and count failures (the row is locked for the check, so parallel
    attempts cannot slip past the limit)."""
    now = now or utcnow()
    password = password[:MAX_PASSWORD]
    with db.session(url) as s:
        row = s.scalars(sa.select(StaffUser).where(StaffUser.name == name.strip().lower())
                        .with_for_update()).first()
        if row is None:
            _verify(_DUMMY_HASH, password)  # the same work as for a real name
            return Attempt(Outcome.WRONG)
        if not row.active:
            return Attempt(Outcome.DISABLED, _staff(row))
        if row.locked_until and row.locked_until > now:
            return Attempt(Outcome.LOCKED, _staff(row))
        if row.locked_until:  # the lock has run out: a fresh count
            row.locked_until, row.failed_attempts = None, 0
        if not _verify(row.password_hash, password):
            row.failed_attempts += 1
            if row.failed_attempts > MAX_FAILURES:
                row.locked_until = now + dt.timedelta(minutes=LOCK_MINUTES)
                return Attempt(Outcome.LOCKED, _staff(row), just_locked=True)
            return Attempt(Outcome.WRONG, _staff(row))
        row.failed_attempts, row.last_sign_in_at = 0, now
        if _hasher.check_needs_rehash(row.password_hash):
            row.password_hash = _hasher.hash(password)
        return Attempt(Outcome.OK, _staff(row))


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
