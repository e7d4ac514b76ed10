"""Inputs: the results cache's file, a SQLite database: opaque bytes by key (`Store`).

What goes in and how keys are made is `kmsprove.questions.cache`'s; this module only
keeps the file healthy and never lets it stop a run. SQLite because it is embedded
(nothing to start), in the standard library, and safe for concurrent runs: the
database is in WAL mode (readers never wait for a writer) and every connection waits
at most `BUSY_SECONDS` for a lock.

- A file that is not a kmsprove cache is never trusted: garbage where kmsprove keeps
  its own cache (`owned`) is replaced by a new cache; anywhere else (`--cache PATH`
  naming someone's file) it is left alone and not used. Either way, a warning.
- A damaged cache (SQLite reports corruption) whose header still carries kmsprove's
  application id, or in kmsprove's own place, is replaced by a new one; a damaged file
  that cannot be told to be ours is left alone as above.
- A locked cache (another process holds an exclusive lock longer than the busy
  timeout) is bypassed for the run: a warning, and answers computed as without it.
- Rows carry the code fingerprint they were made with and when they were last used;
  each write drops rows unused for `KEEP_DAYS` and other code's rows unused for a day,
  so the file does not grow with every edit of kmsprove.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from kmsprove.errors import Diagnostic, SourcePos, warning

APPLICATION_ID = 0x6B6D7370  # "kmsp": `PRAGMA application_id` of a kmsprove cache
SCHEMA = 1  # `PRAGMA user_version`; another value is dropped and made again
BUSY_SECONDS = 2.0  # the longest a run waits for another's lock, then goes without
KEEP_DAYS = 30  # rows unused this long are dropped
_OTHER_CODE_SECONDS = 24 * 3600  # rows of another kmsprove's code, unused this long
_TOUCH_SECONDS = 3600  # a hit refreshes its row's `used` at most this often
_CHUNK = 500  # keys per `IN (...)`: far below SQLite's limit of host parameters
_HEADER = b"SQLite format 3\x00"


def default_cache_path() -> str:
    """Where kmsprove keeps its own cache: `$XDG_CACHE_HOME/kmsprove/results.sqlite`
    (`~/.cache/...` when unset), one per user, shared by every estate."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "kmsprove", "results.sqlite")


class _Unusable(Exception):
    """The cache cannot be used for this run (the message says why)."""


class Store:
    """An open cache file; every method turns an SQLite problem into a warning (in
    `warnings`) and a store that answers nothing from then on."""

    def __init__(self, path: str, code: str, conn: sqlite3.Connection | None) -> None:
        self.path = path
        self.code = code  # the fingerprint rows are written with (`code_digest`)
        self.conn = conn
        self.warnings: list[Diagnostic] = []

    @property
    def usable(self) -> bool:
        return self.conn is not None

    def _warn(self, message: str) -> None:
        self.warnings.append(warning(SourcePos(self.path), f"results cache: {message}"))

    def _give_up(self, message: str) -> None:
        self._warn(message)
        self.close()

    @classmethod
    def open(cls, path: str, code: str, owned: bool) -> Store:
        """The cache at `path`, made when missing; `owned`: kmsprove's own location,
        where a file that is not a cache may be replaced."""
        store = cls(path, code, None)
        try:
            if owned:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            store.conn = _connect(path)
        except (_NotOurs, _Damaged) as exc:
            if owned or _is_marked(path):
                store._remake(str(exc))
            else:
                store._warn(f"{exc}: not used (give another --cache, or remove the file)")
        except (sqlite3.Error, OSError) as exc:
            store._warn(f"{_why(exc)}: answers computed without it")
        return store

    def _remake(self, why: str) -> None:
        """Replace the file by a new, empty cache (`why` it could not be used)."""
        self.close()
        try:
            self.conn = _rebuild(self.path)
        except (_Unusable, sqlite3.Error, OSError) as exc:
            self._warn(f"{why}, and cannot be made anew ({_why(exc)}): answers computed without it")
            return
        self._warn(f"{why}: made anew")

    def _failed(self, exc: sqlite3.Error, then: str) -> None:
        """An SQLite error in use: a damaged cache is made anew, else it is left for
        this run."""
        if _is_corrupt(exc):
            self._remake(f"damaged ({exc})")
        else:
            self._give_up(f"{_why(exc)}: {then}")

    def get(self, keys: Sequence[str]) -> dict[str, bytes]:
        """The stored values of those keys that have one."""
        out: dict[str, bytes] = {}
        if self.conn is None:
            return out
        try:
            for chunk in _chunks(keys):
                marks = ",".join("?" * len(chunk))
                rows = self.conn.execute(
                    f"SELECT key, value FROM results WHERE key IN ({marks})", chunk
                )
                out.update((k, bytes(v)) for k, v in rows)
        except sqlite3.Error as exc:
            self._failed(exc, "answers computed without it")
            return {}
        return out

    def put(self, rows: Sequence[tuple[str, bytes]], used: Sequence[str] = ()) -> None:
        """Store `rows` and mark the keys `used` as used now, in one transaction; old
        rows are dropped. A lock held too long: a warning, nothing stored."""
        if self.conn is None or not (rows or used):
            return
        now = int(time.time())
        try:
            with self._transaction() as conn:
                conn.executemany(
                    "INSERT OR REPLACE INTO results (key, value, code, used) VALUES (?, ?, ?, ?)",
                    [(k, v, self.code, now) for k, v in rows],
                )
                for chunk in _chunks(used):
                    marks = ",".join("?" * len(chunk))
                    conn.execute(
                        f"UPDATE results SET used = ? WHERE key IN ({marks}) AND used < ?",
                        [now, *chunk, now - _TOUCH_SECONDS],
                    )
                conn.execute(
                    "DELETE FROM results WHERE used < ? OR (code != ? AND used < ?)",
                    (now - KEEP_DAYS * 86400, self.code, now - _OTHER_CODE_SECONDS),
                )
        except sqlite3.Error as exc:
            self._failed(exc, "this run's answers not stored")

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        assert self.conn is not None
        self.conn.execute("BEGIN IMMEDIATE")  # the write lock now, or SQLITE_BUSY
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(sqlite3.Error):
                self.conn.close()
            self.conn = None


class _NotOurs(_Unusable):
    """The file is not a kmsprove cache (not SQLite, or another program's database)."""


class _Damaged(_Unusable):
    """A kmsprove cache that SQLite reports corrupt."""


def _why(exc: BaseException) -> str:
    name = getattr(exc, "sqlite_errorname", "")
    if name in ("SQLITE_BUSY", "SQLITE_LOCKED"):
        return f"locked by another process for over {BUSY_SECONDS:g} s"
    if isinstance(exc, OSError):
        return f"cannot open: {exc.strerror or exc}"
    return str(exc) or type(exc).__name__


def _is_marked(path: str) -> bool:
    """The file's SQLite header carries kmsprove's application id (header offset 68),
    however damaged the rest is."""
    try:
        with open(path, "rb") as f:
            head = f.read(72)
    except OSError:
        return False
    return head[:16] == _HEADER and head[68:72] == APPLICATION_ID.to_bytes(4, "big")


def _is_corrupt(exc: BaseException) -> bool:
    return getattr(exc, "sqlite_errorname", "") in ("SQLITE_CORRUPT", "SQLITE_NOTADB")


def _connect(path: str) -> sqlite3.Connection:
    """A connection to the kmsprove cache at `path`, made if absent or empty."""
    try:
        with open(path, "rb") as f:
            head = f.read(len(_HEADER))
    except FileNotFoundError:
        head = b""
    if head and head != _HEADER:
        raise _NotOurs("not a SQLite database")
    conn = sqlite3.connect(path, timeout=BUSY_SECONDS, isolation_level=None)
    try:
        _prepare(conn)
    except sqlite3.Error as exc:
        conn.close()
        if _is_corrupt(exc):
            raise _Damaged(f"damaged ({exc})") from None
        raise
    except _Unusable:
        conn.close()
        raise
    return conn


def _prepare(conn: sqlite3.Connection) -> None:
    """Check the database is a kmsprove cache of this schema, making an empty one so;
    WAL mode for concurrent runs."""
    app = conn.execute("PRAGMA application_id").fetchone()[0]
    if app != APPLICATION_ID:
        tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if app != 0 or tables:
            raise _NotOurs("a SQLite database that is not a kmsprove results cache")
    if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")  # WAL stays consistent; a cache may lose a commit
    if app == APPLICATION_ID and conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA:
        return
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("DROP TABLE IF EXISTS results")
    conn.execute(
        "CREATE TABLE results (key TEXT PRIMARY KEY, value BLOB NOT NULL,"
        " code TEXT NOT NULL, used INTEGER NOT NULL) WITHOUT ROWID"
    )
    conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version={SCHEMA}")
    conn.execute("COMMIT")


def _rebuild(path: str) -> sqlite3.Connection | None:
    """A new, empty cache in place of the file at `path` (and its WAL files)."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path + suffix)
    return _connect(path)


def _chunks(keys: Sequence[str]) -> Iterator[list[str]]:
    for i in range(0, len(keys), _CHUNK):
        yield list(keys[i : i + _CHUNK])
