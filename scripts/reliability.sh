#!/usr/bin/env bash
# The fault-injection, crash and cancellation suite of hybridnet_cluster_network
# (acceptance-tests/test_reliability.py), with the scenarios of AWS itself beside it: K = 8
# clusters under EC2's token buckets (test_many_clusters.py), reads that lag behind writes
# (test_lagging_reads.py) and clusters sharing a VPC (test_neighbours.py); regenerates
# docs/reliability.md from the JSON report they all write (test_reliability's `figures`
# fixture, when $HYBRIDNET_RELIABILITY_REPORT is set).
#
#   scripts/reliability.sh                     # 20 seeded runs per scenario, 20% fault rate
#   RUNS=50 RATE=0.3 scripts/reliability.sh    # larger or harsher
#   NO_BUILD=1 scripts/reliability.sh          # use the binary already in target/debug
#   scripts/reliability.sh -k crash            # extra arguments go to pytest
#   RENDER_ONLY=1 scripts/reliability.sh       # rewrite the page from the last report, run nothing
#
# The raw report stays in target/reliability/report.json. Exits with pytest's status
# (the document is written either way, with the failures in it).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export CHECKPOINT_DISABLE=1

RUNS="${RUNS:-${HYBRIDNET_FAULT_RUNS:-20}}"
RATE="${RATE:-${HYBRIDNET_FAULT_RATE:-0.2}}"
DOC="${RELIABILITY_DOC:-$ROOT/docs/reliability.md}"
OUT="$ROOT/target/reliability"
BIN="${HYBRIDNET_PROVIDER_BIN:-$ROOT/target/debug/terraform-provider-hybridnet}"

SUITE=(acceptance-tests/test_reliability.py acceptance-tests/test_many_clusters.py
       acceptance-tests/test_lagging_reads.py acceptance-tests/test_neighbours.py)

mkdir -p "$OUT"
report="$OUT/report.json"
log="$OUT/pytest.log"
TF="$(scripts/bootstrap.sh)"
status=0
if [ "${RENDER_ONLY:-0}" = 1 ]; then
  [ -s "$report" ] || { echo "reliability: no $report to render" >&2; exit 2; }
  elapsed="$(cat "$OUT/elapsed" 2>/dev/null || echo 0)"
  RELIABILITY_ARGS="$(cat "$OUT/args" 2>/dev/null || true)"
  commit="$(cat "$OUT/commit" 2>/dev/null || echo unknown)"
else
  commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  if [ -n "$(git status --porcelain -- provider proto Cargo.toml Cargo.lock 2>/dev/null)" ]; then
    commit="$commit (with uncommitted provider changes)"
  fi
  printf '%s' "$commit" > "$OUT/commit"
  if [ "${NO_BUILD:-0}" != 1 ]; then
    echo "== cargo build" >&2
    cargo build --locked --bins
  fi
  if [ ! -x "$BIN" ]; then
    echo "reliability: provider binary $BIN not found (run cargo build --locked --bins)" >&2
    exit 2
  fi
  rm -f "$report"
  echo "== reliability suite: $RUNS seeded runs per scenario, fault rate $RATE" >&2
  start="$(date +%s)"
  set +e
  HYBRIDNET_TERRAFORM_BIN="$TF" \
  HYBRIDNET_PROVIDER_BIN="$BIN" \
  HYBRIDNET_FAULT_RUNS="$RUNS" \
  HYBRIDNET_FAULT_RATE="$RATE" \
  HYBRIDNET_RELIABILITY_REPORT="$report" \
    "$ROOT/.venv/bin/python" -m pytest "${SUITE[@]}" -q -p no:cacheprovider -rfEx "$@" 2>&1 \
    | tee "$log"
  status="${PIPESTATUS[0]}"
  set -e
  elapsed="$(( $(date +%s) - start ))"
  echo "$elapsed" > "$OUT/elapsed"
  RELIABILITY_ARGS="$*"
  printf '%s' "$RELIABILITY_ARGS" > "$OUT/args"
  if [ ! -s "$report" ]; then
    echo "reliability: the suite wrote no report ($report); docs/reliability.md left as it was" >&2
    exit "${status:-1}"
  fi
fi

tf_version="$("$TF" version 2>/dev/null | head -n1 || true)"
moto_version="$("$ROOT/.venv/bin/python" -c 'import moto; print(moto.__version__)' 2>/dev/null || echo '?')"

RELIABILITY_ARGS="$RELIABILITY_ARGS" \
"$ROOT/.venv/bin/python" - "$report" "$log" "$DOC" "$elapsed" "$commit" "$tf_version" "$moto_version" "$(nproc)" <<'PY'
import json
import os
import re
import sys
from collections import Counter

report_path, log_path, doc_path, elapsed, commit, tf_version, moto_version, cores = sys.argv[1:9]
extra_args = os.environ.get("RELIABILITY_ARGS", "").strip()
doc = json.load(open(report_path))
log = open(log_path, errors="replace").read()
meta = doc.get("meta", {})
scen = doc.get("scenarios", {})
rate = meta.get("rate", 0.2)
runs = meta.get("runs_per_scenario")
KINDS = ["throttle", "internal", "reset_before", "reset_after", "latency"]
KIND_NAMES = {"throttle": "throttled", "internal": "HTTP 500", "reset_before": "reset before",
              "reset_after": "reset after", "latency": "latency"}

outcome = ""
for line in log.splitlines():
    if re.search(r"\b(passed|failed|error|xfailed)\b.* in [0-9.]+s", line):
        outcome = line.strip("= ").strip()
problems = [l.strip() for l in log.splitlines() if l.startswith(("FAILED ", "ERROR ", "XFAIL ", "XPASS "))]


def minutes(s) -> str:
    s = int(float(s))
    return f"{s // 60} min {s % 60:02d} s" if s >= 60 else f"{s} s"


def yes(n, total) -> str:
    return f"**{n}/{total}**"


out = []
w = out.append


def header(*columns: str) -> None:
    """A Markdown table's header row and the separator row that matches it."""
    w("| " + " | ".join(columns) + " |")
    w("|" + "---|" * len(columns))

w("# Reliability: faults, crashes, cancellation, EC2's limits, lagging reads, neighbours")
w("")
w("<!-- Generated by scripts/reliability.sh from acceptance-tests/test_reliability.py, test_many_clusters.py, "
  "test_lagging_reads.py and test_neighbours.py. Do not edit. -->")
w("")
w("The promise of `hybridnet_cluster_network`: any interrupted `terraform apply` can simply be")
w("re-run. It converges, creates no duplicates and orphans nothing. This page shows the")
w("evidence: real Terraform (v1.0.3) and the real provider binary against a local AWS emulator")
w("(moto), with faults injected between the two, and with AWS's own behaviour modelled there: EC2's")
w("token buckets, describes that lag behind writes, other clusters in the same VPC.")
w("")
w("## Method")
w("")
w("- **Fault proxy** (`acceptance-tests/fault_proxy.py`): an HTTP/1.1 proxy on 127.0.0.1 between the")
w("  provider (`AWS_ENDPOINT_URL` points at it) and moto. Each AWS request gets a fault with")
w(f"  probability **{rate:.0%}**, one of five kinds with equal weight: EC2 throttling (HTTP 503")
w("  `RequestLimitExceeded`) or EKS throttling (HTTP 429 `ThrottlingException`); HTTP 500")
w("  (`InternalError` / `ServerException`); connection reset *before* the request reaches moto;")
w("  connection reset *after* moto has executed it (the answer is lost: the case that creates")
w("  duplicates in a client that is not idempotent); added latency (0.2-1 s).")
w("- **Seeded and reproducible**: the decision for the n-th call of an operation (`ec2:CreateRoute`, ...)")
w("  is drawn from `random.Random(f\"{seed}:{operation}\")`, so the provider's concurrency does not change")
w("  how many calls of each operation fail, nor how.")
w(f"- **A run converges** when at most {meta.get('max_applies', 4)} `terraform apply` (or destroy) under faults end")
w("  in success. The only retries of an AWS call are the provider's own (AWS SDK standard mode:")
w("  6 attempts, exponential backoff); the test only re-runs Terraform.")
w("- **After every run, faults off**: `terraform plan -detailed-exitcode` must exit 0 (or the destroy")
w("  left nothing), and moto must hold exactly what the state records: every route in state exists")
w("  and points at the gateway, and no route for our CIDRs points at it unless it is in state; every")
w("  rule tagged `hybridnet:cluster-network` is in the state's `security_group_rule_ids` and every ID")
w("  there exists, at most one rule per (direction, port, CIDR); exactly one live attachment of the VPC")
w("  to the gateway, the one in state; and the end state is the configured one. **Orphans** are objects")
w("  of ours in AWS missing from the state, **duplicates** a second object where one must exist,")
w("  **missing** an object the state records that AWS lacks.")
w("- Runs alternate between a transit gateway (odd seeds) and a virtual private gateway (even seeds).")
w("  *create*: a new resource. *update*: add a node CIDR and remove a pod CIDR (routes and rules")
w("  added and removed). *destroy*: delete everything.")
w("")
w("## Fault scenarios")
w("")
w(f"{runs} seeded runs per scenario (seeds {meta.get('first_seed', 1)}-{meta.get('first_seed', 1) + (runs or 1) - 1}), "
  f"fault rate {rate:.0%}.")
w("")
header("scenario", "seeded runs (tgw / vgw)", "AWS requests", "faults injected", "faults by kind", "of which on changes", "applies needed", "converged", "clean after", "orphans", "duplicates", "missing")
for name in ("create", "update", "destroy"):
    x = scen.get(name)
    if not x:
        continue
    g = x["gateways"]
    kinds = ", ".join(f"{KIND_NAMES[k]} {x['faults'].get(k, 0)}" for k in KINDS)
    applies = ", ".join(f"{n}x: {c}" for n, c in sorted(x["applies_needed"].items(), key=lambda kv: int(kv[0])))
    oc = x.get("faults_on_changes", {})
    changes = f"{sum(oc.values())} (answer lost after the change: {oc.get('reset_after', 0)})"
    w(f"| {name} | {x['runs']} ({g.get('tgw', 0)} / {g.get('vgw', 0)}) | {x['requests']} | {x['faults_total']} | {kinds} | {changes} "
      f"| {applies} | {yes(x['converged'], x['runs'])} | {yes(x['clean_after'], x['runs'])} | {x['orphans']} "
      f"| {x['duplicates']} | {x['missing']} |")
w("")
w("\"of which on changes\": faults injected into mutating calls (Create*, Delete*, Authorize*, Revoke*, ...);")
w("a reset after such a call means AWS made the change but the provider never heard of it.")
w("\"applies needed\": how many runs needed 1, 2, ... applies (or destroys) to succeed.")
w("")
KNOWN = {
    "failed: HTTP 500": (
        "an HTTP 500 without an AWS error body. moto 5.2.5 answers some calls on an object that a lost-answer "
        "(reset after) call already changed with an HTML page (a KeyError) where AWS answers with the object's "
        "state or a NotFound code; the provider names the HTTP status because there is no AWS error code. A "
        "failed DeleteTransitGatewayVpcAttachment is followed by a describe, so that case counts as deleted."),
}
errs = {}
for name, x in scen.items():
    for e, n in x.get("errors_seen", {}).items():
        errs[(name, e)] = n
if errs:
    w("Errors that ended a failed attempt (the next attempt then went on):")
    w("")
    header("scenario", "error diagnostic", "times")
    for (name, e), n in sorted(errs.items()):
        w(f"| {name} | {e} | {n} |")
    w("")
    for key, text in KNOWN.items():
        if any(key in e for (_, e) in errs):
            w(f"Why `{key}`: {text}")
            w("")
bad = [(name, s) for name, x in scen.items() for s in sorted(set(x["not_converged_seeds"]) | set(x["unclean_seeds"]))]
if bad:
    w("Runs that did not converge or left AWS and state disagreeing (reproduce one as shown under")
    w("*Regenerate*):")
    w("")
    for name, s in bad:
        rec = next(r for r in scen[name]["per_run"] if r["seed"] == s)
        w(f"- {name}, seed {s} ({rec['gateway']}): converged {rec['converged']} after {rec['applies']} attempt(s), "
          f"plan exit {rec.get('plan_exit')}, {json.dumps(rec.get('audit', {}))}")
    w("")

crash = doc.get("crash", [])
if crash:
    w("## Crash: the provider is killed (SIGKILL) mid-apply")
    w("")
    w("The proxy kills the provider process (found under the Terraform process by `/proc`) right")
    w("after the k-th AWS request of the run has reached moto, so its answer is lost with the process.")
    w("Then one plain `terraform apply` (or destroy), without faults, must converge.")
    w("")
    header("scenario", "killed after request k", "operation", "left by the killed run", "next run", "orphans", "duplicates", "attachment adopted")
    for r in crash:
        left = r.get("left_by_killed_run", {})
        what = (f"{left.get('attachments', 0)} attachment(s), resource {'in' if left.get('state_recorded') else 'not in'} state"
                if left else "?")
        nxt = ("converged (1 apply)" if r.get("first_apply_succeeded") else
               f"converged after {r.get('applies_after')}" if r.get("converged") else "**failed**")
        adopted = "yes" if r.get("adopted_attachment") else ("n/a" if r.get("scenario") == "destroy" or not left.get("attachments") else "no")
        op = r.get("killed_after") or "?"
        nth = f" #{r['nth']}" if r.get("nth") else ""
        w(f"| {r.get('scenario')} | {r.get('k')} | `{op}`{nth} | {what} | {nxt} | {r.get('orphans', '?')} | {r.get('duplicates', '?')} | {adopted} |")
    w("")

cancel = doc.get("cancellation", [])
if cancel:
    w("## Cancellation: Ctrl-C during a slow apply")
    w("")
    w("SIGINT goes to Terraform's process group (as Ctrl-C in a terminal) while the named request")
    w("is being held by the proxy; Terraform must exit within 20 s, and the state it saved must record")
    w("what exists in AWS at that moment (held requests whose client hung up are never forwarded).")
    w("Then one plain apply must converge.")
    w("")
    header("case", "slow requests", "Ctrl-C while", "exit after signal", "exit code", "state saved", "orphans at exit", "duplicates", "next apply")
    for r in cancel:
        st = f"yes ({r['state_status']})" if r.get("state_recorded") and r.get("state_status") else ("yes" if r.get("state_recorded") else "no")
        nxt = "converged, clean" if r.get("followup_converged") and r.get("followup_clean") else "**not clean**"
        w(f"| {r.get('case')} | {r.get('slow')} ({r.get('hold_seconds')} s) | `{r.get('cancelled_at')}` | {r.get('exit_seconds_after_signal')} s "
          f"| {r.get('exit_code')} | {st} | {r.get('orphans')} | {r.get('duplicates')} | {nxt} |")
    w("")
    w("\"tainted\": Terraform marks a resource whose create returned an error as tainted; the next")
    w("apply replaces it (deletes what the state records, then creates).")
    w("")

unrec = doc.get("unrecoverable", [])
if unrec:
    w("## Runs that cannot succeed")
    w("")
    w("Each must fail with exactly one error diagnostic that names the cause, within 90 s, and leave")
    w("AWS and state agreeing.")
    w("")
    header("case", "failed after", "error diagnostics", "the diagnostic", "AWS requests (most calls of one operation)", "orphans")
    for r in unrec:
        reqs = "n/a (no endpoint)" if r.get("requests") is None else f"{r['requests']} ({r.get('max_calls_of_one_operation')})"
        detail = (r.get("detail") or "").split(". Check")[0].replace("|", "\\|")
        w(f"| {r.get('case')} | {r.get('seconds')} s | {r.get('errors')} | **{r.get('summary')}**: {detail} | {reqs} | {r.get('orphans')} |")
    w("")

def cell(text) -> str:
    return str(text).replace("|", "\\|")


many = doc.get("many_clusters", [])
if many:
    k = many[0].get("clusters", "K")
    w(f"## Many clusters: K = {k} under EC2's token buckets")
    w("")
    w(f"One configuration, {k} `hybridnet_cluster_network` resources (`for_each`), one provider process;")
    w("each cluster has its own VPC, transit gateway, 2 route tables and 6 remote CIDRs (4 node, 2 pod).")
    w("The proxy's bucket mode answers as EC2 does when a bucket is empty (HTTP 503")
    w("`RequestLimitExceeded`), with EC2's documented sizes per account and Region, not scaled down:")
    w("mutating 50 burst + 5/s, resource-intensive (security group rule changes) 50 + 5/s, filtered or")
    w("paginated describes 100 + 20/s, unfiltered describes 50 + 10/s. Each command must succeed at the")
    w("first run, throttled answers must stay at most a quarter of the successful ones, and the destroy")
    w("must leave no route, attachment or rule behind.")
    w("")
    cats = ["mutating", "resource-intensive", "non-mutating", "unfiltered"]
    header("command", "wall time", "exit code", *[f"{c}: OK / throttled" for c in cats], "throttled share",
           "objects missing (create) / left behind (destroy)")
    for r in many:
        b = r.get("buckets", {})
        per = [f"{b.get(c, {}).get('ok', 0)} / {b.get(c, {}).get('throttled', 0)}" for c in cats]
        objs = r.get("objects") or []
        w(f"| {r.get('command')} | {r.get('seconds')} s | {r.get('exit_code')} | " + " | ".join(per)
          + f" | {r.get('throttled', 0)} of {r.get('ok', 0) + r.get('throttled', 0)} ({r.get('share_throttled', 0):.1%})"
          + f" | **{len(objs)}**{(': ' + cell(', '.join(objs[:6]))) if objs else ''} |")
    w("")
    w("Wall time against the buckets' lower bound for K = 1, 4, 8 and 16 (release build) is in")
    w("[performance.md](performance.md).")
    w("")

lag = doc.get("lagging_reads", [])
if lag:
    w("## Reads that lag behind writes")
    w("")
    w("The proxy's lag mode answers an EC2 describe as the world was before the writes of the last")
    w(f"{lag[0].get('lag')} s on the objects it names (the describe's earlier answer), as EC2's eventually")
    w("consistent describes do. Each step is one `terraform apply` under lag; then, the lag passed (as a")
    w("later run would see it), `terraform plan -detailed-exitcode` must exit 0 and AWS read back must hold")
    w("exactly the configured routes (both route tables), rules and attachment. *grow* adds a node and a")
    w("pod CIDR, *shrink* removes the first two.")
    w("")
    header("gateway", "step", "lag", "stale answers served", "applies needed", "next plan", "AWS read back")
    for r in lag:
        applies = r.get("applies")
        applies = f"**{applies}**" if applies else "**failed**: " + cell("; ".join(r.get("errors", []))[:300])
        if r.get("step") == "destroy":
            nxt = "state empty" if r.get("state_left") == [] else "**state holds** " + cell(", ".join(r.get("state_left", [])))
            right = "nothing left" if not r.get("aws_wrong") else "**left**: " + cell(", ".join(r["aws_wrong"]))
        else:
            nxt = "empty (exit 0)" if r.get("next_plan_exit") == 0 else f"**exit {r.get('next_plan_exit')}**"
            right = "as configured" if not r.get("aws_wrong") else "**wrong**: " + cell("; ".join(r["aws_wrong"]))
        w(f"| {r.get('gateway')} | {r.get('step')} | {r.get('lag')} s | {r.get('stale_reads')} | {applies} | {nxt} | {right} |")
    w("")
    w("\"stale answers served\": describes the proxy answered from before a write during that apply (it")
    w("counts them); the test requires some for create and grow, else it would show nothing.")
    w("")


def objects(items) -> str:
    """A step's objects in words: routes by CIDR, attachments, rules counted per cluster's group."""
    routes = [i[len("route "):] for i in items if i.startswith("route ")]
    atts = [i for i in items if i.startswith("attachment")]
    rules = Counter(m.group(1) for i in items for m in [re.match(r"rule \S+ of (.+)$", i)] if m)
    parts = []
    if atts:
        parts.append(", ".join(atts))
    if routes:
        parts.append("routes " + ", ".join(routes))
    parts += [f"{n} rule{'s' if n != 1 else ''} of {g}" for g, n in sorted(rules.items())]
    return cell("; ".join(parts)) if parts else "nothing"


nb = doc.get("neighbours", [])
if nb:
    w("## Neighbours: clusters that share a VPC")
    w("")
    w("Several EKS clusters in one VPC share its route tables and its one attachment per transit")
    w("gateway. Each resource deletes only what it created, and before deleting asks EKS which other")
    w("cluster of the VPC still needs it, keeps it, and says so in a warning naming that cluster; the")
    w("last one out removes what hybridnet made. The neighbour is another Terraform workspace (both")
    w("destroy orders), another resource of the same configuration, or a cluster and route made by hand")
    w("with boto3. Each row is one step that takes a resource away (of what existed before it: routes")
    w("to the gateways, attachments, rules hybridnet tagged); after each, the plans of what remains are")
    w("empty.")
    w("")
    header("scenario", "step", "kept", "removed", "warning")
    for r in nb:
        warns = "; ".join(f"\"{x}\"" for x in r.get("warnings", [])) or "none"
        added = f" (added: {objects(r['added'])})" if r.get("added") else ""
        w(f"| {cell(r.get('scenario'))} | {cell(r.get('step'))} | {objects(r.get('kept', []))} "
          f"| {objects(r.get('removed', []))}{added} | {cell(warns)} |")
    w("")

w("## Outcome and known problems")
w("")
w(f"pytest: `{outcome or 'no summary line'}`; suite wall time {minutes(elapsed)} on {cores} cores.")
w("")
if problems:
    w("Tests that failed, or are marked as expected to fail until the provider is fixed:")
    w("")
    for p in problems:
        w(f"- `{p}`")
    w("")
else:
    w("No test failed and none is marked as expected to fail.")
    w("")
w("## Regenerate")
w("")
w("```sh")
w("scripts/reliability.sh                    # 20 seeded runs per scenario at a 20% fault rate, and the other three files")
w("RUNS=50 RATE=0.3 scripts/reliability.sh   # more runs, more faults")
w("```")
w("")
w("CI runs the same file through `scripts/test.sh` with 10 seeded runs per scenario (the default of")
w("`HYBRIDNET_FAULT_RUNS` in `acceptance-tests/test_reliability.py`), about 7 minutes on 2 cores.")
w("The many-clusters, lagging-read and neighbour tests take about a minute and a half together and")
w("record the same figures there (the report is written only when `HYBRIDNET_RELIABILITY_REPORT` is set).")
w("One run: `HYBRIDNET_FAULT_RUNS=<seed> .venv/bin/python -m pytest -p no:cacheprovider")
w("'acceptance-tests/test_reliability.py::test_converges_under_faults[create-seed<seed>]'`.")
w("")
args = f", pytest arguments `{extra_args}`" if extra_args else ""
w(f"This page: {runs} runs per scenario, rate {rate}{args}; commit {commit}; {tf_version}; moto {moto_version}; "
  f"generated {meta.get('finished', '?')}.")
open(doc_path, "w").write("\n".join(out) + "\n")
print(f"reliability: wrote {doc_path}", file=sys.stderr)
PY
exit "$status"
