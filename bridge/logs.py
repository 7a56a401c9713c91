"""Logging set-up of the workflow's scripts (each rule's log file)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


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
