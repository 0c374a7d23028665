"""Personal data: the audit log names conversations by a keyed pseudonym instead of their
sender id, and a message marking keeps the time of its message (it is purged by it).

Audit lines written before this migration name a conversation by its sender id. They are
rewritten to its pseudonym (``bot.store.audit.pseudonym``, keyed with ``AUDIT_KEY`` or the key
kept in ``STATE_DIR/audit-key``, made here if needed): the append-only protection is lifted
for the rewrite, in the same transaction, and put back. Only the actions whose target was a
conversation are touched; references, staff names and content keys stay as they are.

Markings made before this migration do not know their message's time (the tracker store is
another database); they keep being purged by the time they were made.

The downgrade drops the column; pseudonyms cannot be turned back into sender ids.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

#: The actions whose target was a conversation's sender id (console, handover and its time-outs).
CONVERSATION_ACTIONS = (
    "view_transcript", "review", "tags", "note", "annotate", "unannotate", "export_story", "erase",
    "handover_claim", "handover_reply", "handover_hand_back", "handover_close", "handover_timeout",
    "handover_idle",
)
#: As migration 0003 made them.
APPEND_ONLY_SQLITE = """
CREATE TRIGGER audit_log_no_{verb} BEFORE {verb} ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END
"""


def _pseudonymise_audit_targets() -> None:
    from bot.store import audit

    bind = op.get_bind()
    log = sa.table("audit_log", sa.column("id", sa.Integer), sa.column("action", sa.String),
                   sa.column("target", sa.String), sa.column("detail", sa.Text))
    rows = bind.execute(sa.select(log.c.id, log.c.target, log.c.detail).where(
        log.c.action.in_(CONVERSATION_ACTIONS), log.c.target.is_not(None),
        sa.not_(log.c.target.startswith(audit.PSEUDONYM_PREFIX)))).all()
    if not rows:
        return  # a new database, or nothing to rewrite: no key needed
    key = audit.audit_key()
    postgres = bind.dialect.name == "postgresql"
    if postgres:
        op.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_UPDATE")
    for row_id, target, detail in rows:
        name = audit.pseudonym(target, key)
        bind.execute(log.update().where(log.c.id == row_id).values(
            target=name, detail=detail.replace(target, name) if detail else detail))
    if postgres:
        op.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
    else:
        op.execute(APPEND_ONLY_SQLITE.format(verb="UPDATE"))


def upgrade() -> None:
    with op.batch_alter_table("message_annotations", recreate="auto") as batch:
        batch.add_column(sa.Column("message_at", sa.DateTime))
    _pseudonymise_audit_targets()


def downgrade() -> None:
    with op.batch_alter_table("message_annotations", recreate="auto") as batch:
        batch.drop_column("message_at")
