"""Every hostile, damaged or foreign NPZ input ends in a right result, a documented
warning-and-skip, or a documented xr-nap error naming the file: never a crash, a hang,
a memory blow-up or a silently wrong result.

The inputs come from :mod:`npz_corpus`; each is opened through every entry point by
:mod:`npz_probes` in a forked child of one worker process (:mod:`_run`), so a segfault
or a hang fails this test instead of killing pytest. Run this file with ``-s`` to see
the counts.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from . import _run, npz_corpus

PROBES = Path(__file__).with_name("npz_probes.py")


def test_every_input_ends_well(tmp_path):
    cases = npz_corpus.generate(tmp_path)
    jobs = [{"id": case["id"], "probe": "check", "args": [case], "isolate": case["isolate"]}
            for case in cases]
    results = _run.run(PROBES, jobs, timeout=60.0)
    per_case = Counter(results[c["id"]]["outcome"] for c in cases)
    per_entry = Counter(v.split(":")[0] for r in results.values()
                        for v in r.get("entries", {}).values())
    print(f"\nNPZ corpus: {len(cases)} inputs, {sum(per_entry.values())} opens; "
          f"per input {dict(per_case)}; per open {dict(per_entry)}")
    bad = {c["id"]: results[c["id"]] for c in cases
           if results[c["id"]]["outcome"] not in ("ok", "clear")}
    assert not bad, "\n".join(f"{k}: {v}" for k, v in list(bad.items())[:30])
    # the corpus exercises both sides: inputs that load and inputs that are refused
    assert per_case["ok"] > 20 and per_case["clear"] > 100
