"""Training jobs of the explorer: a concurrency limit with a visible queue, per-session stop events, per-session
folders for checkpoints, and the latest checkpoint of each session (the Predict tab reads it from here).

Only ``limit`` trainings run at once (``IDFY_MAX_TRAININGS``, default 1: on a CPU server two trainings would only
halve each other's speed). Later ones wait in first-come order and can read their place in line
(:meth:`Ticket.position`), so the page can say "waiting: 2nd in line". A session runs at most one training.

>>> ticket = REGISTRY.submit("session-a")
>>> while not ticket.wait(0.5):
...     print(f"waiting: {ordinal(ticket.position())} in line")
>>> try:
...     train(..., stop=ticket.stop, out_dir=REGISTRY.new_run_dir("session-a"))
... finally:
...     ticket.release()

Nothing here imports Gradio or torch; sessions are plain strings (Gradio's ``request.session_hash``).
"""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_MAX_TRAININGS",
    "DEFAULT_MAX_WAITING",
    "REGISTRY",
    "JobError",
    "JobRegistry",
    "LatestCheckpoint",
    "Ticket",
    "max_trainings",
    "ordinal",
]

DEFAULT_MAX_TRAININGS = 1
DEFAULT_MAX_WAITING = 8
#: Sessions idle for longer than this (and not training) are forgotten and their folders removed.
SESSION_TTL_S = 6 * 3600


class JobError(RuntimeError):
    """A training cannot be queued (this session already has one, or the line is full); the message says so."""


def max_trainings() -> int:
    """Concurrent trainings allowed: ``IDFY_MAX_TRAININGS`` (an integer ≥ 1) or :data:`DEFAULT_MAX_TRAININGS`."""
    raw = os.environ.get("IDFY_MAX_TRAININGS", "").strip()
    if not raw:
        return DEFAULT_MAX_TRAININGS
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(
            f"IDFY_MAX_TRAININGS={raw!r}: give a whole number of trainings (at least 1)"
        ) from None
    if value < 1:
        raise ValueError(f"IDFY_MAX_TRAININGS={value}: at least 1 training must be allowed")
    return value


def ordinal(n: int) -> str:
    """``1`` -> ``1st``, ``2`` -> ``2nd``, ``11`` -> ``11th``, ``23`` -> ``23rd``."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


@dataclass(frozen=True)
class LatestCheckpoint:
    """The checkpoint a session's last training kept: its path and what to say about it."""

    path: str
    info: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Session:
    key: str
    folder: Path
    ticket: Ticket | None = None
    latest: LatestCheckpoint | None = None
    runs: int = 0
    touched: float = field(default_factory=time.monotonic)


class Ticket:
    """One training's place: waiting in line, then running until :meth:`release`.

    ``stop`` is the session's stop event: pass it to :func:`idfy.train.train`; setting it while the ticket
    still waits makes :meth:`wait` give up (the training never starts).
    """

    def __init__(self, registry: JobRegistry, session: str) -> None:
        self._registry = registry
        self.session = session
        self.stop = threading.Event()
        self.running = False
        self.released = False

    def position(self) -> int:
        """0 while running (or released), else the place in line: 1 = next to start."""
        return self._registry._position(self)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait up to ``timeout`` seconds for a free slot; True once this ticket runs. False when the time is up,
        the stop event is set or the ticket was released."""
        return self._registry._wait(self, timeout)

    def release(self) -> None:
        """Leave the line or free the slot (idempotent)."""
        self._registry._release(self)

    def __enter__(self) -> Ticket:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class JobRegistry:
    """Process-wide bookkeeping of training jobs (thread-safe).

    Args:
        limit: trainings allowed to run at once (default: :func:`max_trainings`, read when first needed).
        max_waiting: tickets allowed to wait in line; more are refused with :class:`JobError`.
        root: folder for the sessions' run folders (default: a fresh temporary folder, removed at exit).
    """

    def __init__(
        self,
        limit: int | None = None,
        *,
        max_waiting: int = DEFAULT_MAX_WAITING,
        root: str | Path | None = None,
    ) -> None:
        if limit is not None and limit < 1:
            raise ValueError(f"limit={limit}: at least 1 training must be allowed")
        self._limit = limit
        self.max_waiting = max_waiting
        self._root = Path(root) if root is not None else None
        self._cond = threading.Condition()
        self._waiting: list[Ticket] = []
        self._running: list[Ticket] = []
        self._sessions: dict[str, _Session] = {}

    # ------------------------------------------------------------------ limits and folders
    @property
    def limit(self) -> int:
        if self._limit is None:
            self._limit = max_trainings()
        return self._limit

    @property
    def root(self) -> Path:
        """The registry's folder (created on first use)."""
        with self._cond:
            if self._root is None:
                self._root = Path(tempfile.mkdtemp(prefix="idfy-train-"))
                atexit.register(shutil.rmtree, self._root, True)
            self._root.mkdir(parents=True, exist_ok=True)
            return self._root

    def _session(self, key: str) -> _Session:
        s = self._sessions.get(key)
        if s is None:
            digest = hashlib.sha256(key.encode()).hexdigest()[:16]  # no user text in a path
            s = self._sessions[key] = _Session(key, self.root / f"session-{digest}")
        s.touched = time.monotonic()
        return s

    def session_dir(self, session: str) -> Path:
        """The session's own folder (created)."""
        with self._cond:
            folder = self._session(session).folder
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def new_run_dir(self, session: str) -> Path:
        """A fresh, not yet existing run folder inside the session's folder (``run-1``, ``run-2``, ...)."""
        with self._cond:
            s = self._session(session)
            s.runs += 1
            path = s.folder / f"run-{s.runs}"
        shutil.rmtree(path, ignore_errors=True)
        return path

    # ------------------------------------------------------------------ the line
    def submit(self, session: str) -> Ticket:
        """Queue a training for ``session``; raises :class:`JobError` when it already has one or the line is full."""
        with self._cond:
            self._prune()
            s = self._session(session)
            if s.ticket is not None and not s.ticket.released:
                raise JobError(
                    "this page already has a training running or waiting; stop it first (one per session)"
                )
            if len(self._waiting) >= self.max_waiting:
                raise JobError(
                    f"{len(self._waiting)} trainings are already waiting for the {self.limit} slot(s); "
                    "try again in a minute"
                )
            ticket = Ticket(self, session)
            s.ticket = ticket
            self._waiting.append(ticket)
            self._cond.notify_all()
            return ticket

    def _position(self, ticket: Ticket) -> int:
        with self._cond:
            return self._waiting.index(ticket) + 1 if ticket in self._waiting else 0

    def _wait(self, ticket: Ticket, timeout: float | None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while True:
                if ticket.running:
                    return True
                if ticket.released or ticket.stop.is_set():
                    return False
                if self._waiting and self._waiting[0] is ticket and len(self._running) < self.limit:
                    self._waiting.pop(0)
                    self._running.append(ticket)
                    ticket.running = True
                    self._cond.notify_all()  # everyone behind moved up a place
                    return True
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                # wake up now and then to notice a stop event set without notify
                self._cond.wait(0.25 if left is None else min(left, 0.25))

    def _release(self, ticket: Ticket) -> None:
        with self._cond:
            if ticket.released:
                return
            ticket.released = True
            ticket.running = False
            if ticket in self._waiting:
                self._waiting.remove(ticket)
            if ticket in self._running:
                self._running.remove(ticket)
            s = self._sessions.get(ticket.session)
            if s is not None:
                s.touched = time.monotonic()
            self._cond.notify_all()

    def stop(self, session: str) -> bool:
        """Ask the session's training (running or waiting) to stop; False when it has none."""
        with self._cond:
            s = self._sessions.get(session)
            if s is None or s.ticket is None or s.ticket.released:
                return False
            s.ticket.stop.set()
            self._cond.notify_all()
            return True

    def counts(self) -> tuple[int, int]:
        """(running, waiting) right now."""
        with self._cond:
            return len(self._running), len(self._waiting)

    def active(self, session: str) -> Ticket | None:
        """The session's ticket while it waits or runs, else None."""
        with self._cond:
            s = self._sessions.get(session)
            t = s.ticket if s is not None else None
            return t if t is not None and not t.released else None

    # ------------------------------------------------------------------ latest checkpoint
    def set_latest(self, session: str, path: str | Path, info: dict[str, Any] | None = None) -> None:
        """Remember ``path`` as the session's checkpoint for the Predict tab."""
        with self._cond:
            self._session(session).latest = LatestCheckpoint(str(path), dict(info or {}))

    def latest(self, session: str | None) -> LatestCheckpoint | None:
        """The session's latest kept checkpoint (None when it has not trained, or the file is gone)."""
        if not session:
            return None
        with self._cond:
            s = self._sessions.get(session)
            latest = s.latest if s is not None else None
            if s is not None:
                s.touched = time.monotonic()
        if latest is None or not Path(latest.path).is_file():
            return None
        return latest

    # ------------------------------------------------------------------ cleanup
    def forget(self, session: str) -> None:
        """Stop the session's training and remove its folder and record."""
        with self._cond:
            s = self._sessions.pop(session, None)
            if s is not None and s.ticket is not None:
                s.ticket.stop.set()
        if s is not None:
            shutil.rmtree(s.folder, ignore_errors=True)

    def _prune(self, now: float | None = None) -> None:
        """Forget sessions idle for :data:`SESSION_TTL_S` (called with the lock held)."""
        now = time.monotonic() if now is None else now
        for key, s in list(self._sessions.items()):
            busy = s.ticket is not None and not s.ticket.released
            if not busy and now - s.touched > SESSION_TTL_S:
                del self._sessions[key]
                shutil.rmtree(s.folder, ignore_errors=True)


#: The registry the app uses.
REGISTRY = JobRegistry()
