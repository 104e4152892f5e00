"""Running the ranking's CPU work where it cannot slow the web pages."""

import os
import threading


def in_idle_thread(fn, *args, **kwargs):
    """fn(*args, **kwargs) in a thread of its own at Linux's SCHED_IDLE policy: it gets a
    core only when no web request, vote or database query wants it.

    For pure computation only (featurising, loading the cached features, fitting): nothing
    that talks to the database, so that no lock or open transaction waits on a thread that
    the scheduler keeps off the CPU. The policy is the new thread's alone (Linux sets it per
    thread), so the worker's other work keeps its priority and nothing needs restoring (an
    unprivileged process could not raise it back). Elsewhere than Linux it runs at the normal
    priority.
    """
    outcome: dict = {}

    def run():
        try:
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
        except (AttributeError, OSError):
            pass
        try:
            outcome["value"] = fn(*args, **kwargs)
        except BaseException as exc:  # re-raised in the caller
            outcome["error"] = exc

    thread = threading.Thread(target=run, name="ranking-idle")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")
