"""Where collected drawings live: one small interface over SQLAlchemy Core, for SQLite or PostgreSQL.

    sqlite:///collect.sqlite                          the default: one file, no server, WAL mode
    postgresql+psycopg://user:password@host/dbname    a community deployment (pip install "psycopg[binary]")

A plain path (``collect.sqlite``) means SQLite. The same statements run on both databases: they are
built with SQLAlchemy Core, which also binds every value as a parameter, so no value is ever pasted
into SQL text.

Tables:

- ``sessions``: an anonymous random session id (the visitor's cookie) and when consent was given;
- ``drawings``: the class asked for, the config, the session, the time, the strokes as points
  ``[x, y, t, pressure]`` (JSON) and a PNG rendering; its review status;
- ``declines``: prompts a visitor skipped or did not know;
- ``decisions``: every review decision, with who made it and when;
- ``contacts``: a name or email a visitor chose to leave; never exported.

No IP address is stored anywhere.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
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
# How long a writer waits for SQLite's write lock before giving up, in milliseconds.
SQLITE_BUSY_MS = 30_000

metadata = sa.MetaData()

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("session", sa.String(64), primary_key=True),
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("consented_at", sa.String(32)),
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
    sa.Index("drawings_by_class", "config", "label"),
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


@dataclass(frozen=True)
class Drawing:
    """One stored drawing.

    Attributes:
        strokes: ``[[[x, y, t, pressure], ...], ...]``: each stroke a list of points, x and y in
            canvas units (``0 .. canvas_size``), t in milliseconds from the drawing's first point,
            pressure in ``0 .. 1`` (0.5 where the device does not report it, as Pointer Events do).
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

    # --- visitors ----------------------------------------------------------------------------------------------

    def consent(self, session: str) -> None:
        """Records that the session agreed to publication; a session's row is made here, at its consent."""
        with self._writing() as db:
            if db.execute(sa.select(sessions.c.session).where(sessions.c.session == session)).first() is None:
                db.execute(sa.insert(sessions).values(session=session, created_at=now(), consented_at=now()))
            else:
                db.execute(
                    sa.update(sessions)
                    .where(sessions.c.session == session, sessions.c.consented_at.is_(None))
                    .values(consented_at=now())
                )

    def has_consented(self, session: str) -> bool:
        with self.engine.connect() as db:
            row = db.execute(sa.select(sessions.c.consented_at).where(sessions.c.session == session)).first()
        return row is not None and row.consented_at is not None

    def add_drawing(
        self, config: str, label: int, session: str, strokes: list, png: bytes, pointer: str, canvas_size: int
    ) -> int:
        """Stores one drawing; returns its id."""
        with self._writing() as db:
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
                )
            )
            return int(result.inserted_primary_key[0])

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

    def class_counts(self, config: str, num_classes: int) -> list[int]:
        """How many drawings of each class of ``config`` count: all but the rejected ones."""
        query = (
            sa.select(drawings.c.label, sa.func.count())
            .where(drawings.c.config == config, drawings.c.status != REJECTED)
            .group_by(drawings.c.label)
        )
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

    def drawings(self, config: str | None = None, *, with_png: bool = True) -> list[Drawing]:
        """Every drawing, or those of one config, in the order they were stored."""
        columns = [c for c in drawings.c if with_png or c.name != "png"]
        query = sa.select(*columns).order_by(drawings.c.id)
        if config is not None:
            query = query.where(drawings.c.config == config)
        with self.engine.connect() as db:
            rows = db.execute(query).mappings().all()
        return [
            Drawing(**{**row, "strokes": json.loads(row["strokes"]), "png": row.get("png", b"")})  # type: ignore[arg-type]
            for row in rows
        ]

    def png(self, drawing_id: int) -> bytes | None:
        with self.engine.connect() as db:
            return db.execute(sa.select(drawings.c.png).where(drawings.c.id == drawing_id)).scalar_one_or_none()

    def configs(self) -> list[str]:
        """The configs that have drawings."""
        with self.engine.connect() as db:
            return list(db.execute(sa.select(drawings.c.config).distinct().order_by(drawings.c.config)).scalars())

    def decide(self, drawing_id: int, decision: str, reviewer: str) -> bool:
        """Records a review decision and sets the drawing's status; False when there is no such drawing."""
        if decision not in DECISIONS:
            raise ValueError(f"decision {decision!r} is not one of {DECISIONS}")
        status = ACCEPTED if decision == "accept" else REJECTED
        with self._writing() as db:
            updated = db.execute(sa.update(drawings).where(drawings.c.id == drawing_id).values(status=status))
            if updated.rowcount != 1:
                return False
            db.execute(
                sa.insert(decisions).values(
                    drawing_id=drawing_id, decision=decision, reviewer=reviewer, decided_at=now()
                )
            )
        return True

    def decisions(self, drawing_id: int | None = None) -> list[dict]:
        query = sa.select(decisions).order_by(decisions.c.id)
        if drawing_id is not None:
            query = query.where(decisions.c.drawing_id == drawing_id)
        with self.engine.connect() as db:
            return [dict(row) for row in db.execute(query).mappings()]

    def count(self, table: sa.Table) -> int:
        with self.engine.connect() as db:
            return int(db.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


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
