"""A time budget for one piece of work: the batch grader gives each submission one.

Every file the checker reads is bounded in size and parsed in linear time, so no known
submission takes long; the budget is the backstop for the unknown ones, so that one
hostile submission can never stop a class's gradebook. :func:`time_limit` arms a timer
(``SIGALRM``, on the main thread of a Unix process: the checker's command line); when it
fires, :class:`TimeBudgetExceeded` is raised in the work, wherever it is, including inside a
regular expression (CPython's ``re`` engine checks for signals as it runs). Elsewhere (a
thread, Windows) the work runs without a limit.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


class TimeBudgetExceeded(BaseException):  # noqa: N818 - an interruption, like KeyboardInterrupt
    """The work took longer than its budget. A BaseException, so that the checker's own
    "never a traceback" handlers (``except Exception``) do not swallow it."""

    def __init__(self, seconds: float):
        super().__init__(f"took more than {seconds:g} s")
        self.seconds = seconds


def can_limit_time() -> bool:
    """Whether :func:`time_limit` can interrupt work here (main thread, SIGALRM)."""
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise :class:`TimeBudgetExceeded` in the ``with`` body after ``seconds`` (None or
    where :func:`can_limit_time` is False: no limit). Limits nest: an enclosing one keeps
    running (and still fires first if it is shorter); its handler is restored after."""
    if seconds is None or not can_limit_time():
        yield
        return

    def expire(signum, frame):
        raise TimeBudgetExceeded(seconds)

    outer = signal.getitimer(signal.ITIMER_REAL)[0]  # 0.0: no enclosing limit
    start = time.monotonic()
    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, min(seconds, outer) if outer else seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer:  # give the enclosing limit back what it had left (at least 1 ms)
            signal.setitimer(signal.ITIMER_REAL, max(outer - (time.monotonic() - start), 1e-3))
