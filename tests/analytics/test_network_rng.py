"""Community splits draw from a generator of their own, not igraph's process-wide one."""

from __future__ import annotations

import random
import subprocess
import sys
import threading

import numpy as np

from relgraph.analytics.networks import split_large


def _component(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Twelve sparse random groups of 40 with weighted edges: Leiden's answer depends on the
    random numbers it draws."""
    rng = np.random.default_rng(seed)
    a, b = [], []
    for group in range(12):
        base = group * 40
        pairs = rng.integers(0, 40, size=(160, 2))
        pairs = pairs[pairs[:, 0] != pairs[:, 1]]
        a.extend((base + pairs[:, 0]).tolist())
        b.extend((base + pairs[:, 1]).tolist())
    label = np.repeat(np.arange(12), 40)
    weight = rng.uniform(0.1, 1.0, size=len(a))
    return label, np.asarray(a), np.asarray(b), weight


def _split(seed: int) -> np.ndarray:
    label, a, b, weight = _component(3)
    return split_large(label, a, b, weight, max_size=10, seed=seed)[0]


def test_the_seed_matters_so_the_next_test_can_fail() -> None:
    assert not np.array_equal(_split(1), _split(2))


def test_concurrent_use_of_the_global_generators_does_not_change_splits() -> None:
    expected = _split(7)
    stop = threading.Event()

    def meddle() -> None:
        # Other threads splitting with other seeds and using the global generator: what
        # the process does. Not igraph's generator set by hand: igraph calls back into
        # Python for every draw, so a thread may run between two draws, and code that sets
        # igraph's generator outside the split's lock would interleave (none in relgraph).
        i = 0
        while not stop.is_set():
            i += 1
            random.seed(i)
            random.random()
            _split(100 + i)

    meddlers = [threading.Thread(target=meddle) for _ in range(2)]
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads take turns between almost any two draws
    for thread in meddlers:
        thread.start()
    try:
        for _ in range(5):
            assert np.array_equal(_split(7), expected)
    finally:
        stop.set()
        for thread in meddlers:
            thread.join()
        sys.setswitchinterval(switch)


def test_a_split_leaves_the_global_generator_alone() -> None:
    random.seed(11)
    before = random.getstate()
    _split(7)
    assert random.getstate() == before


_LOADED = """
import sys
import numpy as np
from relgraph.analytics.networks import split_large
label = np.array([0, 0, 0, 1, 1], np.int64)
a, b = np.array([0, 1, 3], np.int64), np.array([1, 2, 4], np.int64)
split_large(label, a, b, np.ones(3), max_size={max_size}, seed=1)
print(sorted(m for m in ("igraph", "matplotlib") if m in sys.modules))
"""


def test_networks_under_the_size_limit_load_neither_igraph_nor_matplotlib() -> None:
    # igraph imports matplotlib.pyplot when it is installed: 0.65 s of every `analyze`.
    def loaded(max_size: int) -> str:
        code = _LOADED.format(max_size=max_size)
        run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        return run.stdout.strip()

    assert loaded(3) == "[]"
    assert loaded(2) == "['igraph', 'matplotlib']"  # a group of 3 over 2: split, igraph runs
