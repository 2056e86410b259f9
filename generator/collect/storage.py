"""Where collected drawings live: one small interface over SQLAlchemy Core, for SQLite or PostgreSQL.

    sqlite:///collect.sqlite                          the default: one file, no server, WAL mode
    postgresql+psycopg://user:password@host/dbname    a community deployment (pip install "psycopg[binary]")

A plain path (``collect.sqlite``) means SQLite. The same statements run on both databases: they are
built with SQLAlchemy Core, which also binds every value as a parameter, so no value is ever pasted
into SQL text.

Tables:

- ``sessions``: an anonymous random session id (the visitor's cookie), when consent was given and on
  what basis (``CONSENT_BASES``: 16 or older, or with a parent's or teacher's agreement), and the
  SHA-256 of the short code that lets the writer delete their drawings later;
- ``drawings``: the class asked for, the config, the session, the time, the strokes as points
  ``[x, y, t, pressure]`` (JSON) and a PNG rendering; its review status; the client's submission id
  (unique per session, so that a retried post stores nothing twice); the anomaly model's verdict
  (``flag``: why it is flagged, or NULL) and its scores (JSON), stored when the drawing arrives;
- ``declines``: prompts a visitor skipped or did not know;
- ``decisions``: every review decision, with who made it and when;
- ``contacts``: a name or email a visitor chose to leave; never exported;
- ``deletions``: when a writer deleted their drawings, and how many (no session: nothing of them is left);
- ``keys``: the server's own secrets (the CSRF key), so that open pages survive a restart.

No IP address is stored anywhere. A database made by an earlier version gains the new columns and
indexes when it is opened (``Storage`` adds what is missing; nothing is dropped or rewritten).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from generator.errors import InputError

# Review states of a drawing. A new drawing counts and is exported unless the anomaly model flags it;
# an accepted one is exported whatever the model says; a rejected one never is.
NEW, ACCEPTED, REJECTED = "new", "accepted", "rejected"
DECLINE_REASONS = ("skip", "unknown")
DECISIONS = ("accept", "reject")
# What a writer's consent rests on: their own agreement at 16 or older, or a parent's or teacher's.
CONSENT_BASES = ("16_or_older", "parent_or_teacher")
# A writer's deletion code: 8 characters from an alphabet without look-alikes (no 0/O, 1/I/L), shown as XXXX-XXXX.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
# How long a writer waits for SQLite's write lock before giving up, in milliseconds.
SQLITE_BUSY_MS = 30_000

metadata = sa.MetaData()

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("session", sa.String(64), primary_key=True),
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("consented_at", sa.String(32)),
    sa.Column("consent_basis", sa.String(32)),
    sa.Column("delete_code", sa.String(64), index=True),
)

drawings = sa.Table(
    "drawings",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("config", sa.String(64), nullable=False),
    sa.Column("label", sa.Integer, nullable=False),
    sa.Column("session", sa.String(64), sa.ForeignKey("sessions.session"), nullable=False, index=True),
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("pointer", sa.String(8), nullable=False),
    sa.Column("canvas_size", sa.Integer, nullable=False),
    sa.Column("strokes", sa.Text, nullable=False),
    sa.Column("png", sa.LargeBinary, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, default=NEW),
    sa.Column("submission", sa.String(64)),
    sa.Column("flag", sa.Text),
    sa.Column("scores", sa.Text),
    sa.Column("scored_at", sa.String(32)),
    sa.Index("drawings_by_class", "config", "label"),
    sa.Index("drawings_by_submission", "session", "submission", unique=True),
    sa.Index("drawings_by_review", "config", "status", "flag"),
)

declines = sa.Table(
    "declines",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("config", sa.String(64), nullable=False),
    sa.Column("label", sa.Integer, nullable=False),
    sa.Column("session", sa.String(64), sa.ForeignKey("sessions.session"), nullable=False, index=True),
    sa.Column("reason", sa.String(16), nullable=False),
    sa.Column("created_at", sa.String(32), nullable=False),
)

decisions = sa.Table(
    "decisions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("drawing_id", sa.Integer, sa.ForeignKey("drawings.id"), nullable=False, index=True),
    sa.Column("decision", sa.String(16), nullable=False),
    sa.Column("reviewer", sa.String(100), nullable=False),
    sa.Column("decided_at", sa.String(32), nullable=False),
)

contacts = sa.Table(
    "contacts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("session", sa.String(64), sa.ForeignKey("sessions.session"), nullable=False),
    sa.Column("name", sa.String(100)),
    sa.Column("email", sa.String(254)),
    sa.Column("created_at", sa.String(32), nullable=False),
)


deletions = sa.Table(
    "deletions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("drawings", sa.Integer, nullable=False),
    sa.Column("deleted_at", sa.String(32), nullable=False),
)

keys = sa.Table(
    "keys",
    metadata,
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("value", sa.String(128), nullable=False),
)


@dataclass(frozen=True)
class Drawing:
    """One stored drawing.

    Attributes:
        strokes: ``[[[x, y, t, pressure], ...], ...]``: each stroke a list of points, x and y in
            canvas units (``0 .. canvas_size``), t in milliseconds from the drawing's first point,
            pressure in ``0 .. 1`` (0.5 where the device does not report it, as Pointer Events do).
        flag: why the anomaly model flagged it when it arrived (or was last rescored); None when it did not.
        scores: the model's features and correlations (``generator.collect.anomaly``); None before it is scored.
        scored_at: when it was scored; None for a drawing stored by an earlier version, not yet scored.
    """

    id: int
    config: str
    label: int
    session: str
    created_at: str
    pointer: str
    canvas_size: int
    strokes: list
    png: bytes
    status: str
    flag: str | None = None
    scores: dict | None = None
    scored_at: str | None = None
    submission: str | None = None


def now() -> str:
    """UTC, to the millisecond, ISO 8601."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def database_url(value: str) -> str:
    """``--db`` as a SQLAlchemy URL: a plain path is a SQLite file.

    Raises:
        InputError: a URL of another database than SQLite or PostgreSQL.
    """
    if "://" not in value:
        return f"sqlite:///{Path(value).expanduser()}"
    backend = value.split("://", 1)[0].split("+", 1)[0]
    if backend not in ("sqlite", "postgresql"):
        raise InputError(f"--db {backend}://...: use a SQLite path or URL, or a postgresql:// URL")
    return value


class Storage:
    """The collection database. Every method is one transaction; it is safe to share between threads."""

    def __init__(self, url: str):
        self.url = database_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        shown = sa.make_url(self.url).render_as_string(hide_password=True)
        try:
            self.engine = _engine(self.url)
        except ModuleNotFoundError as exc:
            raise InputError(
                f"--db {shown}: its driver {exc.name} is not installed; for PostgreSQL, pip install 'psycopg[binary]'"
            ) from None
        # SQLite allows one writer at a time. Taking the lock inside the process first means a write
        # never waits inside SQLite, where a busy database would surface as "database is locked".
        self._write_lock = threading.Lock() if self.is_sqlite else None
        try:
            metadata.create_all(self.engine)
            _migrate(self.engine)
        except sa.exc.SQLAlchemyError as exc:
            self.engine.dispose()
            reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
            raise InputError(f"--db {shown} cannot be opened ({reason}); check the path or URL") from None

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        if self._write_lock is None:
            with self.engine.begin() as connection:
                yield connection
            return
        with self._write_lock, self.engine.begin() as connection:
            yield connection

    # --- the server's own keys ---------------------------------------------------------------------------------

    def key(self, name: str) -> bytes:
        """The server's secret ``name`` (32 random bytes), made on first use and kept in the database.

        Kept so that a restart does not invalidate every open page's CSRF token. Never printed or logged.
        """
        with self.engine.connect() as db:
            value = db.execute(sa.select(keys.c.value).where(keys.c.name == name)).scalar_one_or_none()
        if value is None:
            try:
                with self._writing() as db:
                    db.execute(sa.insert(keys).values(name=name, value=secrets.token_hex(32)))
            except sa.exc.IntegrityError:  # another process made it first: use theirs
                pass
            with self.engine.connect() as db:
                value = db.execute(sa.select(keys.c.value).where(keys.c.name == name)).scalar_one()
        return bytes.fromhex(value)

    # --- visitors ----------------------------------------------------------------------------------------------

    def consent(self, session: str, basis: str = CONSENT_BASES[0]) -> None:
        """Records that the session agreed to publication, and on what basis (one of ``CONSENT_BASES``).

        A session's row is made here, at its consent; a later consent updates the basis.
        """
        if basis not in CONSENT_BASES:
            raise ValueError(f"basis {basis!r} is not one of {CONSENT_BASES}")
        with self._writing() as db:
            if db.execute(sa.select(sessions.c.session).where(sessions.c.session == session)).first() is None:
                db.execute(
                    sa.insert(sessions).values(
                        session=session, created_at=now(), consented_at=now(), consent_basis=basis
                    )
                )
            else:
                db.execute(
                    sa.update(sessions)
                    .where(sessions.c.session == session)
                    .values(consented_at=sa.func.coalesce(sessions.c.consented_at, now()), consent_basis=basis)
                )

    def has_consented(self, session: str) -> bool:
        with self.engine.connect() as db:
            row = db.execute(sa.select(sessions.c.consented_at).where(sessions.c.session == session)).first()
        return row is not None and row.consented_at is not None

    def consent_basis(self, session: str) -> str | None:
        with self.engine.connect() as db:
            return db.execute(
                sa.select(sessions.c.consent_basis).where(sessions.c.session == session)
            ).scalar_one_or_none()

    def new_delete_code(self, session: str) -> str:
        """A fresh deletion code for a consented session, shown once as ``XXXX-XXXX``; only its hash is stored.

        A new code replaces the session's earlier one.
        """
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        with self._writing() as db:
            updated = db.execute(
                sa.update(sessions).where(sessions.c.session == session).values(delete_code=_code_hash(code))
            )
            if updated.rowcount != 1:
                raise ValueError("a deletion code is given to a consented session only")
        return f"{code[:4]}-{code[4:]}"

    def session_of_code(self, code: str) -> str | None:
        """The session a deletion code belongs to, or None; case, spaces and dashes do not matter."""
        cleaned = "".join(ch for ch in code.upper() if ch not in " -")
        if len(cleaned) != CODE_LENGTH or not set(cleaned) <= set(CODE_ALPHABET):
            return None
        with self.engine.connect() as db:
            return db.execute(
                sa.select(sessions.c.session).where(sessions.c.delete_code == _code_hash(cleaned))
            ).scalar_one_or_none()

    def delete_writer(self, session: str) -> int:
        """Deletes every drawing of ``session``, their review decisions, its declines and its contact.

        What is left is one row in ``deletions``: when, and how many drawings, without the session. The
        session keeps its consent, so the writer may go on drawing. Returns the number of drawings deleted.
        """
        with self._writing() as db:
            ids = sa.select(drawings.c.id).where(drawings.c.session == session).scalar_subquery()
            db.execute(sa.delete(decisions).where(decisions.c.drawing_id.in_(ids)))
            deleted = db.execute(sa.delete(drawings).where(drawings.c.session == session)).rowcount
            db.execute(sa.delete(declines).where(declines.c.session == session))
            db.execute(sa.delete(contacts).where(contacts.c.session == session))
            if deleted:
                db.execute(sa.insert(deletions).values(drawings=deleted, deleted_at=now()))
        return int(deleted)

    def add_drawing(
        self,
        config: str,
        label: int,
        session: str,
        strokes: list,
        png: bytes,
        pointer: str,
        canvas_size: int,
        *,
        submission: str | None = None,
        flag: str | None = None,
        scores: dict | None = None,
    ) -> int:
        """Stores one drawing; returns its id.

        With a ``submission`` id that the session sent before, nothing is stored and the first drawing's
        id is returned: a client that never saw the answer to its post can retry safely.
        """
        try:
            with self._writing() as db:
                if submission is not None:
                    existing = self._submitted(db, session, submission)
                    if existing is not None:
                        return existing
                result = db.execute(
                    sa.insert(drawings).values(
                        config=config,
                        label=label,
                        session=session,
                        created_at=now(),
                        pointer=pointer,
                        canvas_size=canvas_size,
                        strokes=json.dumps(strokes, separators=(",", ":")),
                        png=png,
                        status=NEW,
                        submission=submission,
                        flag=flag,
                        scores=None if scores is None else json.dumps(scores, sort_keys=True),
                        scored_at=None if scores is None else now(),
                    )
                )
                return int(result.inserted_primary_key[0])
        except sa.exc.IntegrityError:
            if submission is None:
                raise
        # PostgreSQL: the same submission, posted twice at once from two connections; the other one won.
        with self.engine.connect() as db:
            existing = self._submitted(db, session, submission)
        if existing is None:
            raise RuntimeError("a drawing's submission id clashed but no such drawing exists")
        return existing

    @staticmethod
    def _submitted(db: Connection, session: str, submission: str) -> int | None:
        return db.execute(
            sa.select(drawings.c.id).where(drawings.c.session == session, drawings.c.submission == submission)
        ).scalar_one_or_none()

    def add_decline(self, config: str, label: int, session: str, reason: str) -> None:
        if reason not in DECLINE_REASONS:
            raise ValueError(f"reason {reason!r} is not one of {DECLINE_REASONS}")
        with self._writing() as db:
            db.execute(
                sa.insert(declines).values(config=config, label=label, session=session, reason=reason, created_at=now())
            )

    def add_contact(self, session: str, name: str | None, email: str | None) -> None:
        with self._writing() as db:
            db.execute(sa.insert(contacts).values(session=session, name=name, email=email, created_at=now()))

    # --- balancing -----------------------------------------------------------------------------------------------

    def class_counts(self, config: str, num_classes: int, session: str | None = None) -> list[int]:
        """How many drawings of each class of ``config`` count: all but the rejected ones, of one writer if given."""
        query = sa.select(drawings.c.label, sa.func.count()).where(
            drawings.c.config == config, drawings.c.status != REJECTED
        )
        if session is not None:
            query = query.where(drawings.c.session == session)
        query = query.group_by(drawings.c.label)
        counts = [0] * num_classes
        with self.engine.connect() as db:
            for label, count in db.execute(query):
                if 0 <= label < num_classes:
                    counts[label] = int(count)
        return counts

    def session_summary(self, session: str, config: str) -> tuple[int, set[int]]:
        """The session's drawings so far (all configs), and the classes of ``config`` it said it does not know."""
        with self.engine.connect() as db:
            drawn = db.execute(sa.select(sa.func.count()).where(drawings.c.session == session)).scalar_one()
            unknown = db.execute(
                sa.select(declines.c.label).where(
                    declines.c.session == session, declines.c.config == config, declines.c.reason == "unknown"
                )
            ).scalars()
            return int(drawn), set(unknown)

    # --- review and export ---------------------------------------------------------------------------------------

    def drawings(
        self,
        config: str | None = None,
        *,
        with_png: bool = True,
        status: str | None = None,
        unscored: bool = False,
        ids: Sequence[int] | None = None,
    ) -> list[Drawing]:
        """Every drawing, or those of one config (of one status, not yet scored, with these ids), in the
        order they were stored."""
        columns = [c for c in drawings.c if with_png or c.name != "png"]
        query = sa.select(*columns).order_by(drawings.c.id)
        if config is not None:
            query = query.where(drawings.c.config == config)
        if status is not None:
            query = query.where(drawings.c.status == status)
        if unscored:
            query = query.where(drawings.c.scored_at.is_(None))
        if ids is not None:
            query = query.where(drawings.c.id.in_(list(ids)))
        with self.engine.connect() as db:
            rows = db.execute(query).mappings().all()
        return [_drawing(row) for row in rows]

    def set_scores(self, verdicts: Sequence[tuple[int, str | None, dict]]) -> None:
        """Stores the anomaly model's ``(drawing id, flag, scores)`` for each drawing, in one transaction."""
        if not verdicts:
            return
        stamp = now()
        with self._writing() as db:
            db.execute(
                sa.update(drawings)
                .where(drawings.c.id == sa.bindparam("drawing_id"))
                .values(flag=sa.bindparam("new_flag"), scores=sa.bindparam("new_scores"), scored_at=stamp),
                [
                    {"drawing_id": i, "new_flag": flag, "new_scores": json.dumps(scores, sort_keys=True)}
                    for i, flag, scores in verdicts
                ],
            )

    def review_cards(
        self, config: str, label: int | None, *, show_all: bool, offset: int, limit: int
    ) -> tuple[list[dict], int]:
        """One page of the review: drawings of ``config`` (and class ``label``), newest decisions aside.

        Without ``show_all``, only the flagged ones awaiting a decision. Returns the page's rows (id, label,
        status, flag, created_at, session) and how many rows match in all. Reads stored verdicts only.
        """
        where = [drawings.c.config == config]
        if label is not None:
            where.append(drawings.c.label == label)
        if not show_all:
            where += [drawings.c.status == NEW, drawings.c.flag.is_not(None)]
        columns = [drawings.c[name] for name in ("id", "label", "status", "flag", "created_at", "session", "scores")]
        with self.engine.connect() as db:
            total = db.execute(sa.select(sa.func.count()).select_from(drawings).where(*where)).scalar_one()
            rows = db.execute(
                sa.select(*columns).where(*where).order_by(drawings.c.label, drawings.c.id).offset(offset).limit(limit)
            ).mappings()
            cards = [dict(row) | {"scores": json.loads(row["scores"]) if row["scores"] else None} for row in rows]
        return cards, int(total)

    def tallies(self) -> list[dict]:
        """Per config, class, session and status: how many drawings, and how many of them are flagged."""
        query = sa.select(
            drawings.c.config,
            drawings.c.label,
            drawings.c.session,
            drawings.c.status,
            sa.func.count().label("drawings"),
            sa.func.count(drawings.c.flag).label("flagged"),
        ).group_by(drawings.c.config, drawings.c.label, drawings.c.session, drawings.c.status)
        with self.engine.connect() as db:
            return [dict(row) for row in db.execute(query).mappings()]

    def deleted_drawings(self) -> int:
        """How many drawings writers deleted, in all."""
        with self.engine.connect() as db:
            return int(db.execute(sa.select(sa.func.coalesce(sa.func.sum(deletions.c.drawings), 0))).scalar_one())

    def png(self, drawing_id: int) -> bytes | None:
        with self.engine.connect() as db:
            return db.execute(sa.select(drawings.c.png).where(drawings.c.id == drawing_id)).scalar_one_or_none()

    def configs(self) -> list[str]:
        """The configs that have drawings."""
        with self.engine.connect() as db:
            return list(db.execute(sa.select(drawings.c.config).distinct().order_by(drawings.c.config)).scalars())

    def decide(self, drawing_id: int, decision: str, reviewer: str) -> bool:
        """Records a review decision and sets the drawing's status; False when there is no such drawing."""
        return self.decide_many([drawing_id], decision, reviewer) == 1

    def decide_many(self, drawing_ids: Sequence[int], decision: str, reviewer: str) -> int:
        """One decision on several drawings, in one transaction; returns how many of them exist (and were decided)."""
        if decision not in DECISIONS:
            raise ValueError(f"decision {decision!r} is not one of {DECISIONS}")
        status = ACCEPTED if decision == "accept" else REJECTED
        wanted = sorted(set(drawing_ids))
        with self._writing() as db:
            found = list(db.execute(sa.select(drawings.c.id).where(drawings.c.id.in_(wanted))).scalars())
            if not found:
                return 0
            db.execute(sa.update(drawings).where(drawings.c.id.in_(found)).values(status=status))
            stamp = now()
            db.execute(
                sa.insert(decisions),
                [{"drawing_id": i, "decision": decision, "reviewer": reviewer, "decided_at": stamp} for i in found],
            )
        return len(found)

    def last_decision(self) -> int:
        """The id of the latest review decision (0 when there is none): it changes whenever a status does."""
        with self.engine.connect() as db:
            return int(db.execute(sa.select(sa.func.coalesce(sa.func.max(decisions.c.id), 0))).scalar_one())

    def decisions(self, drawing_id: int | None = None) -> list[dict]:
        query = sa.select(decisions).order_by(decisions.c.id)
        if drawing_id is not None:
            query = query.where(decisions.c.drawing_id == drawing_id)
        with self.engine.connect() as db:
            return [dict(row) for row in db.execute(query).mappings()]

    def count(self, table: sa.Table) -> int:
        with self.engine.connect() as db:
            return int(db.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def _drawing(row) -> Drawing:  # type: ignore[no-untyped-def]
    values = dict(row)
    values["strokes"] = json.loads(values["strokes"])
    values["scores"] = json.loads(values["scores"]) if values.get("scores") else None
    values.setdefault("png", b"")
    return Drawing(**values)


def _code_hash(code: str) -> str:
    return hashlib.sha256(f"afro-mnist deletion code {code}".encode()).hexdigest()


def _migrate(engine: Engine) -> None:
    """Adds the columns and indexes that a database made by an earlier version lacks; drops nothing."""
    inspector = sa.inspect(engine)
    with engine.begin() as db:
        for table in metadata.sorted_tables:
            present = {column["name"] for column in inspector.get_columns(table.name)}
            for column in table.columns:
                if column.name not in present:
                    kind = column.type.compile(dialect=engine.dialect)
                    db.execute(sa.text(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}'))
    for table in metadata.sorted_tables:
        for index in table.indexes:
            index.create(engine, checkfirst=True)


def _engine(url: str) -> Engine:
    if not url.startswith("sqlite"):
        return sa.create_engine(url, pool_pre_ping=True)
    path = url.split(":///", 1)[1] if ":///" in url else ""
    if path in ("", ":memory:"):
        raise InputError("--db: an in-memory SQLite database loses every drawing; give a file path")
    if not Path(path).parent.is_dir():
        raise InputError(f"--db {path}: folder {Path(path).parent} does not exist; create it first")
    engine = sa.create_engine(url, connect_args={"timeout": SQLITE_BUSY_MS / 1000, "check_same_thread": False})

    @sa.event.listens_for(engine, "connect")
    def _pragmas(connection, _record) -> None:  # type: ignore[no-untyped-def]
        cursor = connection.cursor()
        # WAL: readers never block the writer nor the writer them, so the page stays fast while drawings land.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")  # durable across a crash of the process, as WAL allows
        cursor.close()

    return engine
