"""Logging set-up of the workflow's scripts (each rule's log file)."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, Generic, TypeVar

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
#: Seconds between two progress lines of a long loop in a log (a job's log file, a SLURM
#: log): often enough to see a job is alive, rare enough to keep a day's log short.
PROGRESS_INTERVAL_S = 60.0

T = TypeVar("T")


def setup_logging(log_path: str | Path | None = None, level: int = logging.INFO) -> None:
    """Log to ``log_path`` (created with its folder) or to stderr; replaces earlier handlers.

    An uncaught exception is written to the log as well as to stderr, so a failed rule's log
    file says why it failed.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    if log_path is None:
        handler: logging.Handler = logging.StreamHandler(sys.stderr)
    else:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(log_path, mode="w")
    handler.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(True)
    sys.excepthook = _log_uncaught


def _log_uncaught(exc_type: type[BaseException], exc: BaseException, tb: object) -> None:
    if not issubclass(exc_type, KeyboardInterrupt):
        logging.getLogger("uncaught").critical("stopped by", exc_info=(exc_type, exc, tb))
    sys.__excepthook__(exc_type, exc, tb)


def stderr_is_terminal() -> bool:
    """Whether stderr is an interactive terminal (not a file, a pipe or a SLURM log)."""
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # replaced or closed stream
        return False


class ProgressLog:
    """Progress of a long computation as whole log lines: :meth:`tick` writes one at most every
    ``interval_s`` seconds (the first tick only after one interval), so a job that runs for
    minutes says every ``interval_s`` where it is, and a fast one says nothing extra."""

    def __init__(
        self,
        logger: logging.Logger,
        label: str,
        interval_s: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger = logger
        self.label = label
        # None: the module's PROGRESS_INTERVAL_S when the loop starts
        self.interval_s = PROGRESS_INTERVAL_S if interval_s is None else interval_s
        self._clock = clock
        self.started_s = clock()
        self._last_s = self.started_s

    def elapsed_s(self) -> float:
        return self._clock() - self.started_s

    def due(self) -> bool:
        """Has ``interval_s`` passed since the last line (or the start)?"""
        return self._clock() - self._last_s >= self.interval_s

    def log(self, message: str, *args: object) -> None:
        """Write ``label: message (elapsed s)`` now (``message`` %-formatted with ``args``)."""
        self.logger.info("%s: " + message + " (%.0f s)", self.label, *args, self.elapsed_s())
        self._last_s = self._clock()

    def tick(self, message: str, *args: object) -> bool:
        """:meth:`log` if an interval has passed; returns whether a line was written."""
        if not self.due():
            return False
        self.log(message, *args)
        return True


class LoggedProgress(Generic[T]):
    """Iterates like ``tqdm`` (``set_postfix``, ``close``) but writes a log line per interval:
    ``label: 120/469 (26 %), loss=0.0312 (95 s)``; never a carriage return."""

    def __init__(
        self,
        iterable: Iterable[T],
        label: str,
        logger: logging.Logger,
        total: int | None = None,
        interval_s: float | None = None,
    ) -> None:
        self._iterable = iterable
        self.total = total if total is not None else _length(iterable)
        self.postfix: dict[str, Any] = {}
        self.n = 0
        self.progress = ProgressLog(logger, label, interval_s)

    def __iter__(self) -> Iterator[T]:
        for item in self._iterable:
            yield item
            self.n += 1
            if self.progress.due():
                self.progress.log("%s", self._status())

    def _status(self) -> str:
        done = str(self.n)
        if self.total:
            done = f"{self.n}/{self.total} ({100 * self.n / self.total:.0f} %)"
        extra = ", ".join(f"{key}={value}" for key, value in self.postfix.items())
        return f"{done}, {extra}" if extra else done

    def set_postfix(self, **fields: Any) -> None:
        self.postfix = fields

    def close(self) -> None:
        """Nothing to clear (a log line is final)."""


def _length(iterable: Iterable[Any]) -> int | None:
    try:
        return len(iterable)  # type: ignore[arg-type]
    except TypeError:
        return None


def progress(
    iterable: Iterable[T],
    label: str,
    logger: logging.Logger,
    *,
    bar: bool = True,
    total: int | None = None,
    interval_s: float | None = None,
) -> Any:
    """Progress over ``iterable``: a ``tqdm`` bar on stderr when ``bar`` is true and stderr is
    a terminal; otherwise (a job's log file, parallel jobs, a SLURM log) a
    :class:`LoggedProgress` that logs a whole line every ``interval_s`` seconds. Both have
    ``set_postfix(**fields)`` and ``close()``."""
    if bar and stderr_is_terminal():
        from tqdm.auto import tqdm

        return tqdm(iterable, desc=label, total=total, leave=False)
    return LoggedProgress(iterable, label, logger, total=total, interval_s=interval_s)
