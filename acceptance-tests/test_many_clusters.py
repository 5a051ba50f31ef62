"""K = 8 `hybridnet_cluster_network` resources in one configuration against EC2's token
buckets (the proxy's bucket mode, EC2's documented sizes, not scaled down: the 8
clusters need about 110 mutating requests per create and per destroy, so the 50-token
burst runs dry and the 5/s refill sets the pace for a few seconds).

One provider process serves all 8 resources; its one limiter must keep the throttled
answers a small share (at most a quarter of the successful ones) while create and destroy
each succeed in one command and leave nothing behind.

Figures: each command's record (requests OK / throttled per bucket category, wall time,
what is missing after create or left after destroy) goes into the `many_clusters` section
of `$HYBRIDNET_RELIABILITY_REPORT` through test_reliability's `figures` fixture;
`scripts/reliability.sh` renders it in docs/reliability.md.
"""

from __future__ import annotations

import time

from harness import (APPLY, DESTROY, EC2_BUCKETS, FaultProxy)
from many_clusters import config_many, created_everything, leftovers, seed_many

K = 8


def share_throttled(snapshot: dict) -> tuple[int, int]:
    b = snapshot["buckets"]
    return sum(c["throttled"] for c in b.values()), sum(c["ok"] for c in b.values())


def run(proxy: FaultProxy, tf, args) -> tuple[float, dict, object]:
    proxy.configure(buckets=EC2_BUCKETS)
    t0 = time.monotonic()
    r = tf.run(*args, timeout=600)
    took = time.monotonic() - t0
    assert proxy.wait_idle()
    return took, proxy.snapshot(), r


def record(figures, command: str, took: float, snap: dict, r, objects: list[str]) -> None:
    """One command's figures; `objects`: what a create left missing, or a destroy left behind."""
    throttled, ok = share_throttled(snap)
    print(f"{command}: {took:.1f} s, {ok} ok, {throttled} throttled, {snap['buckets']}")
    figures.add("many_clusters", {
        "command": command, "clusters": K, "seconds": round(took, 1), "exit_code": r.returncode,
        "buckets": snap["buckets"], "ok": ok, "throttled": throttled,
        "share_throttled": round(throttled / (ok + throttled), 3) if ok + throttled else 0.0,
        "requests": snap["requests"], "objects": objects})


def test_eight_clusters_share_ec2s_buckets(aws, proxy: FaultProxy, tfp, figures):
    seeds = seed_many(aws.ec2, aws.eks, K)
    tfp.write(config_many(seeds))

    took, snap, r = run(proxy, tfp, APPLY)
    missing = created_everything(aws.ec2, seeds) if r.returncode == 0 else ["(apply failed)"]
    record(figures, "create", took, snap, r, missing)
    assert r.returncode == 0, (APPLY, [d.get("summary", "") + ": " + d.get("detail", "") for d in r.errors()],
                               r.stderr[-2000:])
    throttled, ok = share_throttled(snap)
    assert missing == []
    assert snap["buckets"]["mutating"]["ok"] > 50, "the burst ran dry: the test shows the refill's pace"
    assert throttled * 4 <= ok, snap["buckets"]

    took, snap, r = run(proxy, tfp, DESTROY)
    left = leftovers(aws.ec2, seeds)
    record(figures, "destroy", took, snap, r, left)
    assert r.returncode == 0, (DESTROY, [d.get("summary", "") + ": " + d.get("detail", "") for d in r.errors()],
                               r.stderr[-2000:])
    throttled, ok = share_throttled(snap)
    assert left == []
    assert throttled * 4 <= ok, snap["buckets"]
