"""Security: secrets never reach logs, sensitive arguments are marked so."""

from __future__ import annotations

import json

from harness import (network_args, network_hcl)

SECRET_KEY = "hybridnetSECRETsentinelQ7xZ2mP9vL4kR8tW1yN6bC3"
SESSION_TOKEN = "hybridnetTOKENsentinelIQoJb3JpZ2luX2VjEJr8aX"
EXTERNAL_ID = "hybridnetEXTERNALsentinel5150"


def config(s, assume_role: bool) -> str:
    role = f"""
  assume_role {{
    role_arn     = "arn:aws:iam::123456789012:role/hybrid"
    session_name = "acceptance"
    external_id  = "{EXTERNAL_ID}"
  }}
""" if assume_role else True
    return network_hcl(network_args(s, "tgw", webhook_ports=None, tags=None), provider=role, output=False)


def test_secrets_never_appear_in_trace_logs(tf_aws, aws, seeded):
    env = {"TF_LOG": "trace", "AWS_SECRET_ACCESS_KEY": SECRET_KEY, "AWS_SESSION_TOKEN": SESSION_TOKEN}
    for assume_role in (False, True):
        tf_aws.write(config(seeded, assume_role))
        runs = [tf_aws.run("apply", "-auto-approve", "-no-color", env=env),
                tf_aws.run("plan", "-no-color", env=env),
                tf_aws.run("destroy", "-auto-approve", "-no-color", env=env)]
        provider_lines = [line for r in runs for line in r.stderr.splitlines()
                          if "provider.terraform-provider-hybridnet" in line]
        assert provider_lines, "TF_LOG=trace shows the provider's logs"
        for r in runs:
            everything = r.stdout + r.stderr
            for secret in (SECRET_KEY, SESSION_TOKEN, EXTERNAL_ID):
                assert secret not in everything, f"{secret[:20]}... leaked (assume_role={assume_role})"
        for line in provider_lines:
            low = line.lower()
            assert "signature=" not in low and "x-amz-security-token" not in low and "authorization" not in low, line
        # The runs did real work, so the logs had something to leak.
        assert all(r.returncode == 0 for r in runs), [r.stdout[-1500:] for r in runs if r.returncode]


def test_external_id_is_sensitive_in_the_schema(tf):
    tf.write('data "hybridnet_cidr_plan" "x" {\n  vpc_cidrs = ["10.0.0.0/16"]\n  remote_node_cidrs = ["192.168.0.0/24"]\n}\n')
    r = tf.run("providers", "schema", "-json")
    assert r.ok, r.stderr
    schema = json.loads(r.stdout)
    provider = next(iter(schema["provider_schemas"].values()))["provider"]["block"]
    role = provider["block_types"]["assume_role"]["block"]["attributes"]
    assert role["external_id"].get("sensitive") is True
    assert not role["role_arn"].get("sensitive")
