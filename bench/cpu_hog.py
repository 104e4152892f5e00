"""A stand-in for a training's computation, to run beside bench/screening_load.py.

    .venv/bin/python bench/cpu_hog.py &      # until killed
    .venv/bin/python bench/screening_load.py --compare '' --no-pairs --unpaced-seconds 10 \\
        --bulk-settle 0

At Linux's SCHED_IDLE policy (as ranking.cpu.in_idle_thread runs a training's computation) it
multiplies a 100,000 x 500,000 sparse matrix (200 entries a row, float32, about the size of a
100,000-record stage's features) by a vector and sorts the result, over and over: memory-bound
work like scoring a stage. Import order, no worker: whatever it does to the latencies is the
cost of the computation being on the machine at all, whatever its priority.
"""

import os
import time

import numpy as np
import scipy.sparse as sp

os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
rng = np.random.default_rng(0)
rows, per = 100_000, 200
indices = rng.integers(0, 500_000, rows * per).astype(np.int32)
X = sp.csr_matrix((np.ones(rows * per, np.float32), indices,
                   np.arange(0, rows * per + 1, per)), shape=(rows, 500_000))
w = rng.standard_normal(500_000).astype(np.float32)
n, started = 0, time.time()
while True:
    np.argsort(X @ w)
    n += 1
    if n % 500 == 0:
        print(f"{n} rounds in {time.time() - started:.0f} s", flush=True)
