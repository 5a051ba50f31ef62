"""How each CLI launches and talks to the provider: what acceptance-tests/OPENTOFU.md and
the reference facts for Terraform 1.0.3 record, held true for the binaries the suite runs.

- the `terraform` and `tofu` cases really run Terraform 1.0.3 and OpenTofu (the version
  tools/opentofu pins);
- both launch the plugin with the same magic cookie and offer protocols 5 and 6, with
  AutoMTLS (a client certificate); the provider answers 5;
- the RPCs a plan of a data source costs, per CLI: OpenTofu 1.12 also asks for resource
  identity schemas (we answer none) and, like Terraform 1.0.3, never calls GetMetadata or
  GetFunctions here.
"""

from __future__ import annotations

import re

from harness import (ROOT, TerraformWorkdir, both_clis)

MAGIC_COOKIE = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2"

CIDR_PLAN = """
data "hybridnet_cidr_plan" "this" {
  vpc_cidrs         = ["10.0.0.0/16"]
  remote_node_cidrs = ["192.168.0.0/24"]
}
"""


def pinned_opentofu() -> str:
    m = re.search(r"^require github\.com/opentofu/opentofu v(\S+)$", (ROOT / "tools/opentofu/go.mod").read_text(), re.M)
    assert m, "tools/opentofu/go.mod pins no OpenTofu"
    return m.group(1)


@both_clis
def test_each_case_runs_the_cli_it_names(tf, cli):
    r = tf.run("version", "-no-color")
    assert r.ok, r.stderr
    want = f"OpenTofu v{pinned_opentofu()}" if cli.is_tofu else "Terraform v1.0.3"
    assert r.stdout.splitlines()[0] == want, r.stdout


@both_clis
def test_the_plugin_is_launched_with_the_go_plugin_handshake(tf, cli, tmp_path):
    # A stand-in provider that records its environment and exits.
    fake = tmp_path / "fake"
    fake.mkdir()
    env_file = tmp_path / "env.txt"
    script = fake / "terraform-provider-hybridnet"
    script.write_text(f"#!/bin/sh\nenv > {env_file}\nexit 1\n")
    script.chmod(0o755)
    work = tmp_path / "fake-config"
    work.mkdir()
    t = TerraformWorkdir(work, cli, fake)
    t.write(CIDR_PLAN)
    assert not t.validate().ok, "the stand-in never serves"
    env = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)
    assert env["TF_PLUGIN_MAGIC_COOKIE"] == MAGIC_COOKIE
    # A set: OpenTofu writes it from a Go map, so "6,5" as often as "5,6".
    assert sorted(env["PLUGIN_PROTOCOL_VERSIONS"].split(",")) == ["5", "6"], env["PLUGIN_PROTOCOL_VERSIONS"]
    assert env["PLUGIN_CLIENT_CERT"].startswith("-----BEGIN CERTIFICATE-----"), "AutoMTLS"
    assert (env["PLUGIN_MIN_PORT"], env["PLUGIN_MAX_PORT"]) == ("10000", "25000")


@both_clis
def test_rpcs_of_a_data_source_plan(tf, cli):
    tf.write(CIDR_PLAN)
    r = tf.run("plan", "-no-color", env={"TF_LOG": "debug"})
    assert r.ok, r.stderr[-3000:]
    versions = set(re.findall(r"provider: using plugin: version=(\d+)", r.stderr))
    assert versions == {"5"}, versions
    rpcs = set(re.findall(r"provider\.terraform-provider-hybridnet: request: .*?rpc=(\w+)", r.stderr))
    common = {"GetSchema", "PrepareProviderConfig", "Configure", "ValidateDataSourceConfig", "ReadDataSource"}
    if cli.is_tofu:
        # OpenTofu 1.12 asks for identity schemas with every provider schema; an empty
        # answer (or Unimplemented) means "no identities" to it.
        assert rpcs == common | {"GetResourceIdentitySchemas"}, rpcs
    else:
        assert rpcs == common, rpcs
    assert not re.search(r"\[(WARN|ERROR)\]\s+.*identity", r.stderr), "the empty identity answer is accepted"
