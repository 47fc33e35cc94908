"""Work beside the main computation in a forked process (loyaltylab.parallel, issue 15): the same value as computed
here, errors shown as they would be here, and the churn analysis equal either way."""
from __future__ import annotations

import json
import os

import pytest

from loyaltylab import parallel
from loyaltylab.errors import DataError

forks = pytest.mark.skipif(not parallel.available(), reason="needs fork and two cores")


def _where(x):
    return os.getpid(), x * 2


def _fails(source):
    raise DataError(source, "nps", "must be between 0 and 10")


def _unpicklable():
    return lambda: None


@forks
def test_the_work_runs_in_a_child_and_comes_back():
    side = parallel.Beside(_where, 21)
    assert side.forked
    pid, value = side.result()
    assert value == 42 and pid != os.getpid()


@forks
def test_an_error_in_the_child_reads_as_it_would_here():
    side = parallel.Beside(_fails, "survey.csv")
    assert side.forked
    with pytest.raises(DataError, match="survey.csv.*nps.*between 0 and 10"):
        side.result()


@forks
def test_a_result_that_cannot_come_back_is_computed_here():
    assert callable(parallel.Beside(_unpicklable).result())


def test_switched_off_or_not_asked_it_runs_here(monkeypatch):
    assert not parallel.Beside(_where, 1, when=False).forked
    assert parallel.Beside(_where, 1, when=False).result() == (os.getpid(), 2)
    monkeypatch.setenv(parallel.SWITCH, "0")
    side = parallel.Beside(_where, 1)
    assert not side.forked and side.result() == (os.getpid(), 2)


@forks
def test_churn_backtests_beside_the_models_give_the_same_results(small_course_dir, monkeypatch):
    """At a million customers the backtests and the AFT comparison run in a child while the Cox models are fitted; on the
    small course world (forced) the results are the ones computed in one process, key for key."""
    from loyaltylab.analyses import churn
    from loyaltylab.analyses.churn import analysis

    params = churn.Params(customers_path=str(small_course_dir / "customers.csv"))
    documents = {}
    real = parallel.Beside
    calls: list[bool] = []

    def spy(*args, **kwargs):
        side = real(*args, **kwargs)
        calls.append(side.forked)
        return side

    monkeypatch.setattr(parallel, "Beside", spy)
    for name, start in (("inline", 10**12), ("beside", 0)):
        monkeypatch.setattr(analysis, "BESIDE_FROM", start)
        calls.clear()
        result = churn.analyze(params)
        assert calls == [name == "beside"]
        assert result.backtest is not None and result.nps is not None
        documents[name] = json.dumps(result.to_results(), sort_keys=True, default=str)
    assert documents["beside"] == documents["inline"]


def test_in_threads_keeps_order_and_raises_the_first_error(monkeypatch):
    import threading

    names: set[str] = set()

    def square(x):
        names.add(threading.current_thread().name)
        if x in (3, 5):
            raise ValueError(f"bad {x}")
        return x * x

    monkeypatch.setattr(parallel, "cores", lambda: 2)
    assert parallel.in_threads(square, [0, 1, 2, 4]) == [0, 1, 4, 16]
    assert names != {threading.current_thread().name}  # the work ran on the pool's threads
    with pytest.raises(ValueError, match="bad 3"):
        parallel.in_threads(square, range(7))
    names.clear()
    monkeypatch.setenv(parallel.SWITCH, "0")
    assert parallel.in_threads(square, [1, 2]) == [1, 4] and names == {threading.current_thread().name}
