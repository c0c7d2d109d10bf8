"""Small timing helpers shared by the benchmark scripts."""

import time


def best_of(func, repeat=3):
    """Best wall time of ``repeat`` calls, in seconds, and the last result."""
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = func()
        best = min(best, time.perf_counter() - t0)
    return best, out


def report(title, rows):
    """Print ``rows`` of (name, seconds) with the ratio to the first row (pynapple)."""
    print(f"\n{title}")
    ref = rows[0][1]
    for name, secs in rows:
        print(f"  {name:<28} {secs * 1e3:10.1f} ms   pynapple/this = {ref / secs:7.2f}x")


def timed(func, *args, **kwargs):
    """One call: ``(result, seconds)``."""
    t0 = time.perf_counter()
    out = func(*args, **kwargs)
    return out, time.perf_counter() - t0
