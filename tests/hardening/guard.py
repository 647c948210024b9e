"""A time bound for one test case: SIGALRM turns a hang into a failure."""

from __future__ import annotations

import signal
from contextlib import contextmanager


class Hang(Exception):
    """The case ran past its time bound."""


@contextmanager
def time_bound(seconds: float, what: str):
    """Raise Hang if the block runs longer than ``seconds`` (main thread only)."""

    def expired(signum, frame):
        raise Hang(f"{what}: still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
