"""The harness itself: one moto server per session, commands in process groups of their
own that die whole on timeout, the per-test time limit, the one HCL builder."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import harness
from harness import (ADDR, MOTO_SERVERS, CommandTimeout, TerraformWorkdir, network_args, network_hcl, Raw,
                     run_command)

# A "CLI" that starts a child in the background (standing in for the provider a CLI
# starts), prints the child's pid and then hangs.
HANGS_WITH_A_CHILD = "sleep 300 & echo $!; wait"


def alive(pid: int) -> bool:
    """True while `pid` runs (a zombie, killed but not yet reaped by its parent, is dead)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def gone_soon(pid: int, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.05)
    return False


def moto_processes_of_this_session() -> list[int]:
    """pids of `python -m moto.server` processes whose parent is this pytest."""
    me, found = os.getpid(), []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == me and b"moto.server" in cmd:
            found.append(int(entry))
    return found


# ---------------------------------------------------------------- one emulator per session

def test_one_moto_server_per_session(moto_server, aws):
    assert MOTO_SERVERS == [moto_server], "conftest.py's moto_server started once, this one"
    assert aws.server is moto_server
    assert moto_processes_of_this_session() == [moto_server.proc.pid]
    # It runs in a process group of its own (stopped whole at the end of the session).
    assert os.getpgid(moto_server.proc.pid) == moto_server.proc.pid != os.getpgid(0)


def test_the_emulator_is_reset_for_every_test_but_not_restarted(moto_server, aws):
    assert MOTO_SERVERS == [moto_server]
    assert moto_processes_of_this_session() == [moto_server.proc.pid]
    # The previous test's world is gone: only the default VPC moto makes.
    vpcs = aws.ec2.describe_vpcs()["Vpcs"]
    assert [v["IsDefault"] for v in vpcs] == [True]


# ---------------------------------------------------------------- process groups

def test_run_command_kills_the_whole_process_group_on_timeout():
    started = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired) as info:
        run_command(["sh", "-c", HANGS_WITH_A_CHILD], timeout=2)
    assert time.monotonic() - started < 30
    out = info.value.output or ""
    child = int(out.split()[0])
    assert gone_soon(child), f"the background child {child} outlived the timeout"


def fake_cli(tmp_path: Path) -> Path:
    """An executable standing in for terraform: `plan` hangs with a child; anything else prints its args."""
    cli = tmp_path / "fake-terraform"
    cli.write_text('#!/bin/sh\nif [ "$1" = plan ]; then ' + HANGS_WITH_A_CHILD + '; fi\necho "args: $*"\n')
    cli.chmod(0o755)
    return cli


def test_a_cli_command_past_its_limit_fails_the_test_and_its_providers_die(tmp_path):
    work = tmp_path / "config"
    work.mkdir()
    tf = TerraformWorkdir(work, str(fake_cli(tmp_path)), tmp_path)
    assert tf.run("version").stdout == "args: version\n"
    assert 'dev_overrides' in tf.cli_config.read_text() and tf.env["TF_CLI_CONFIG_FILE"] == str(tf.cli_config)
    assert tf.env["CHECKPOINT_DISABLE"] == "1"

    with pytest.raises(CommandTimeout, match=r"terraform plan ran past 2s and was killed with its process group"):
        tf.run("plan", timeout=2)
    timed = tf.timed("plan", timeout=2)
    assert timed.timed_out and timed.result.returncode == -9
    child = int(timed.result.stdout.split()[0])
    assert gone_soon(child), f"the provider stand-in {child} outlived its CLI"


LEFT_RUNNING: dict[str, int] = {}


def test_a_command_left_running_by_a_test_is_killed_when_it_ends_1():
    p = harness.start(["sh", "-c", HANGS_WITH_A_CHILD])
    LEFT_RUNNING["leader"] = p.pid
    LEFT_RUNNING["child"] = int(p.stdout.readline())
    assert alive(LEFT_RUNNING["child"])
    # ... and the test ends without waiting for it (as one interrupted by its time limit).


def test_a_command_left_running_by_a_test_is_killed_when_it_ends_2():
    assert LEFT_RUNNING, "runs after part 1"
    assert gone_soon(LEFT_RUNNING["leader"], 1) and gone_soon(LEFT_RUNNING["child"], 1)


# ---------------------------------------------------------------- time limits

def test_every_test_has_a_time_limit_and_the_suite_a_cut_off(request):
    from pytest_timeout import _get_item_settings

    settings = _get_item_settings(request.node)
    assert settings.timeout == request.config.getoption("timeout") > 0
    assert settings.method == "signal", "the signal method fails the test and lets teardown kill its commands"
    assert request.config.getoption("session_timeout")


def test_a_test_past_its_time_limit_fails_and_its_commands_die(tmp_path):
    """A child pytest with a 3 s limit runs a test that hangs in a command: the test
    fails with pytest-timeout's message, and the command's child is gone."""
    here = Path(__file__).resolve().parent
    inner = tmp_path / "test_hangs.py"
    pidfile = tmp_path / "child.pid"
    inner.write_text(
        "import harness\n"
        "def test_hangs():\n"
        f"    p = harness.start(['sh', '-c', {HANGS_WITH_A_CHILD!r}])\n"
        f"    open({str(pidfile)!r}, 'w').write(p.stdout.readline())\n"
        "    p.wait()\n")
    (tmp_path / "conftest.py").write_text((here / "conftest.py").read_text())
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", "PYTEST_TIMEOUT")}
    env["PYTHONPATH"] = str(here)
    r = run_command([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--timeout", "3",
                     "--rootdir", str(tmp_path), str(inner)], cwd=tmp_path, env=env, timeout=120)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "Failed: Timeout (>3.0s) from pytest-timeout." in r.stdout, r.stdout
    assert "1 failed" in r.stdout
    assert gone_soon(int(pidfile.read_text())), "the hung command's child outlived its test"


def test_the_suite_stops_at_its_cut_off(tmp_path):
    """Past the session time limit no further test starts."""
    here = Path(__file__).resolve().parent
    inner = tmp_path / "test_slow.py"
    inner.write_text("import time\n" + "".join(f"def test_{i}():\n    time.sleep(1.5)\n" for i in range(3)))
    (tmp_path / "conftest.py").write_text((here / "conftest.py").read_text())
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", "PYTEST_TIMEOUT")}
    env["PYTHONPATH"] = str(here)
    r = run_command([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--session-timeout", "1",
                     "--rootdir", str(tmp_path), str(inner)], cwd=tmp_path, env=env, timeout=120)
    assert r.returncode != 0, r.stdout
    assert "session-timeout: 1.0 sec exceeded" in r.stdout, r.stdout
    assert "1 passed" in r.stdout, r.stdout


# ---------------------------------------------------------------- the HCL builder

def test_network_hcl_writes_one_resource_with_an_output(seeded):
    s = seeded
    text = network_hcl(network_args(s, "vgw", webhook_ports=None, remote_pod_cidrs=[]))
    assert text == (
        'provider "hybridnet" {}\n\n'
        'resource "hybridnet_cluster_network" "this" {\n'
        '  cluster_name = "edge"\n'
        '  remote_node_cidrs = ["192.168.0.0/22"]\n'
        '  remote_pod_cidrs = []\n'
        f'  vpn_gateway_id = "{s.vpn_gateway_id}"\n'
        f'  route_table_ids = ["{s.route_table_id}"]\n'
        f'  security_group_id = "{s.security_group_id}"\n'
        '  tags = { "team" = "platform" }\n'
        '}\n\n'
        'output "net" {\n  value = hybridnet_cluster_network.this\n}\n')
    assert ADDR == "hybridnet_cluster_network.this"


def test_network_hcl_writes_several_resources_expressions_and_meta_arguments(seeded):
    s = seeded
    text = network_hcl(resources={"a": {"cluster_name": "a", "security_group_id": Raw("var.sg")},
                                  "b": {"cluster_name": "b"}},
                       provider=False, output=False, meta="depends_on = [terraform_data.x]",
                       extra='variable "sg" {}')
    assert text == (
        'resource "hybridnet_cluster_network" "a" {\n'
        '  cluster_name = "a"\n'
        '  security_group_id = var.sg\n'
        '  depends_on = [terraform_data.x]\n'
        '}\n\n'
        'resource "hybridnet_cluster_network" "b" {\n'
        '  cluster_name = "b"\n'
        '  depends_on = [terraform_data.x]\n'
        '}\n\n'
        'variable "sg" {}\n')
    with_gateway = network_args(s, "tgw", attachment_subnet_ids=[s.subnet_a])
    assert with_gateway["transit_gateway_id"] == s.transit_gateway_id
    assert with_gateway["attachment_subnet_ids"] == [s.subnet_a]
    assert "transit_gateway_id" not in network_args(s, None)
