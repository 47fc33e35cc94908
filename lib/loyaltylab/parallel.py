"""Independent work run beside the main computation, in a forked process, at real sizes.

An analysis at a million customers spends most of its time in steps that do not depend on each other (the churn
notebook's backtest and survey signal next to its models). :class:`Beside` starts one of them in a child process
forked from this one — it sees the same data without copying or pickling it — and hands back its result when the
caller asks. The child computes exactly what the caller would (same functions, same data, same seeds), so the
results are the same either way; only the wall time changes.

Whenever the child cannot (no ``fork``, a single core, ``LOYALTYLAB_PARALLEL=0``, an error in the child, a result
that cannot be sent back) the work is simply done here when its result is asked for, so an error reads exactly as
it would without the child.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

SWITCH = "LOYALTYLAB_PARALLEL"  # "0": everything runs in this process


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def second_core() -> bool:
    """Whether work may use a second core: two cores or more, not switched off."""
    return cores() >= 2 and os.environ.get(SWITCH, "1") != "0"


def available() -> bool:
    """Whether work can be forked beside this process: Linux (macOS's system libraries are not fork-safe) and
    :func:`second_core`."""
    return sys.platform.startswith("linux") and hasattr(os, "fork") and second_core()


class Beside:
    """``fn(*args, **kwargs)`` computed in a forked child when ``when`` holds and :func:`available`; ``result()``
    returns its value (computing it here if the child did not)."""

    def __init__(self, fn: Callable[..., Any], *args, when: bool = True, **kwargs):
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self._process = self._conn = None
        if when and available():
            import multiprocessing

            context = multiprocessing.get_context("fork")
            receive, send = context.Pipe(duplex=False)
            try:
                self._process = context.Process(target=_child, args=(send, fn, args, kwargs), daemon=True)
                self._process.start()
                self._conn = receive
            except Exception:  # could not fork (memory, limits): done here instead
                self._process = None
                receive.close()
            finally:
                send.close()

    @property
    def forked(self) -> bool:
        return self._process is not None

    def result(self):
        if self._process is not None:
            process, conn, self._process, self._conn = self._process, self._conn, None, None
            try:
                done, value = conn.recv()
                if done:
                    return value
            except Exception:  # the child died or its result could not be sent
                pass
            finally:
                conn.close()
                process.join(timeout=10)
                if process.is_alive():
                    process.kill()
        return self.fn(*self.args, **self.kwargs)


def _child(conn, fn, args, kwargs) -> None:
    try:
        value = fn(*args, **kwargs)
    except BaseException:  # the caller computes it again and the error shows there, as it would have
        conn.send((False, None))
    else:
        try:
            conn.send((True, value))
        except Exception:  # not picklable: the caller computes it
            conn.send((False, None))
    finally:
        conn.close()


def in_threads(fn: Callable[[Any], Any], items, when: bool = True) -> list:
    """``[fn(item) for item in items]``, two at a time on threads when ``when`` holds and there are two cores and
    the switch is on — for work that spends its time in numpy or Arrow, which release the GIL. The first item that
    fails raises its error, as the loop would have."""
    items = list(items)
    if not (when and len(items) > 1 and second_core()):
        return [fn(item) for item in items]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(fn, item) for item in items]
        return [f.result() for f in futures]
