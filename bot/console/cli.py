"""``python -m bot.cli staff …``: staff users of the console, without a browser.

    staff add NAME --role reviewer|admin   (the password is read from standard input)
    staff list
    staff disable NAME
    staff password NAME                    (the new password from standard input)

The password is read from standard input (one line), never from the command line, so it is
not in the shell history or the process list: ``printf '%s\\n' "$PW" | python -m bot.cli staff add anne``.
At a terminal it is asked for without echo.
"""
from __future__ import annotations

import argparse
import getpass
import sys

from bot.store import audit, db, staff


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``staff`` command to ``bot.cli``'s sub-commands."""
    parser = subparsers.add_parser("staff", help="staff users of the console (add, list, disable, password)",
                                   description=__doc__.split("\n\n")[1] if __doc__ else None,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="staff_command", required=True)
    add = sub.add_parser("add", help="add a staff user (password from standard input)")
    add.add_argument("name")
    add.add_argument("--role", choices=staff.ROLES, default="reviewer")
    sub.add_parser("list", help="list staff users")
    disable = sub.add_parser("disable", help="disable a staff user (they can no longer sign in)")
    disable.add_argument("name")
    password = sub.add_parser("password", help="set a new password (from standard input); unlocks the account")
    password.add_argument("name")


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("Adgangskode: ")
        if getpass.getpass("Gentag adgangskoden: ") != first:
            raise staff.StaffError("De to adgangskoder er ikke ens.")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def run(args: argparse.Namespace) -> int:
    """Run ``staff …``; returns the exit code (2 and a message on standard error when refused)."""
    db.migrate()
    try:
        if args.staff_command == "add":
            user = staff.add(args.name, _read_password(), args.role)
            audit.record("cli", "staff_add", user.name, f"rolle {user.role}")
            print(f"Oprettet: {user.name} ({user.role}).")
        elif args.staff_command == "list":
            for user in staff.everyone():
                state = "aktiv" if user.active else "deaktiveret"
                seen = f", sidst logget ind {user.last_sign_in_at:%Y-%m-%d %H:%M} UTC" if user.last_sign_in_at else ""
                print(f"{user.name}\t{user.role}\t{state}{seen}")
        elif args.staff_command == "disable":
            staff.disable(args.name)
            audit.record("cli", "staff_disable", args.name.strip().lower())
            print(f"Deaktiveret: {args.name}.")
        elif args.staff_command == "password":
            staff.set_password(args.name, _read_password())
            audit.record("cli", "staff_password", args.name.strip().lower())
            print(f"Ny adgangskode sat for {args.name}.")
    except staff.StaffError as err:
        print(f"staff {args.staff_command}: {err}", file=sys.stderr)
        return 2
    return 0
