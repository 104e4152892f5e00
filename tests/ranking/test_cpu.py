import os
import threading

import pytest

from ranking.cpu import in_idle_thread


def policy_and_thread(tag, *, suffix):
    return os.sched_getscheduler(0), threading.current_thread().name, tag + suffix


def test_the_work_runs_in_a_thread_at_idle_priority_and_leaves_the_caller_as_it_was():
    before = os.sched_getscheduler(0)

    assert in_idle_thread(policy_and_thread, "fit", suffix="ted") == (
        os.SCHED_IDLE, "ranking-idle", "fitted")
    assert os.sched_getscheduler(0) == before == os.SCHED_OTHER


def test_an_error_in_the_idle_thread_reaches_the_caller():
    def fail(message):
        raise ValueError(message)

    with pytest.raises(ValueError, match="no labels"):
        in_idle_thread(fail, "no labels")
