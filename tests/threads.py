"""Running test steps at the same instant in real threads, each with its own database
connection (PostgreSQL row locks are what these tests prove)."""

import threading

from django.db import connection


def race(callables):
    """Run the callables at once (a barrier lines them up); return results or exceptions."""
    barrier = threading.Barrier(len(callables))
    results = [None] * len(callables)

    def run(i, fn):
        try:
            barrier.wait()
            results[i] = fn()
        except Exception as exc:  # noqa: BLE001 - the test inspects what each thread got
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(callables)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads), "a thread hung (a lock never released?)"
    return results
