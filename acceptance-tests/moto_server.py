"""A local AWS emulator (moto server) for the acceptance tests, and what they need around it.

`start_moto` runs `python -m moto.server` from the running venv on 127.0.0.1, on a free
port, in a process group of its own (stopped as a whole); `AwsSession` gives boto3
clients pointed at it; `terraform_env_for` is the environment the provider gets; the
rest reads AWS state back. The fixtures that use them (`moto_server`, `aws`, `seeded`,
`aws_env`, `tf_aws`, `proxy`, `tfp`) are in conftest.py; tests import these helpers
through harness.py.

Nothing here contacts a non-loopback address: every client and every URL is 127.0.0.1.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import boto3
from botocore.config import Config


REGION = "us-east-1"
HOST = "127.0.0.1"

__all__ = [
    "MotoServer", "AwsSession", "REGION", "free_port", "closed_port", "start_moto", "terraform_env_for",
    "routes_of", "rule_rows", "our_rules", "tgw_attachments", "vgw_attachment_state",
]


def free_port() -> int:
    """A port that was free a moment ago (bound then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def closed_port() -> int:
    """A loopback port nothing listens on: connections are refused at once."""
    return free_port()


@dataclass
class MotoServer:
    port: int
    proc: subprocess.Popen
    log: Path

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/moto-api/", timeout=2) as r:
                return r.status == 200
        except (urllib.error.URLError, ConnectionError, OSError):
            return False

    def reset(self) -> None:
        req = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST", data=b"")
        with urllib.request.urlopen(req, timeout=10) as r:
            assert r.status == 200, r.read()

    def client(self, service: str):
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=5, read_timeout=30),
        )

    def stop(self) -> None:
        """Stops the server: SIGTERM to its process group, SIGKILL to the group if it lingers."""
        if self.proc.poll() is None:
            _signal_group(self.proc, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                _signal_group(self.proc, signal.SIGKILL)
                self.proc.wait(timeout=10)
        # Anything the server started and left in its group goes too.
        _signal_group(self.proc, signal.SIGKILL)


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def start_moto(log_dir: Path, attempts: int = 3) -> MotoServer:
    """Starts moto on a free loopback port (retrying if another process takes the port)."""
    last = ""
    for _ in range(attempts):
        port = free_port()
        log = log_dir / f"moto-{port}.log"
        fh = open(log, "wb")
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION,
                    "AWS_EC2_METADATA_DISABLED": "true"})
        proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(port)],
                                stdout=fh, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        fh.close()
        server = MotoServer(port, proc, log)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and proc.poll() is None:
            if server.answers():
                return server
            time.sleep(0.1)
        server.stop()
        last = log.read_text(errors="replace")[-2000:]
    raise RuntimeError(f"moto server did not start:\n{last}")


@dataclass
class AwsSession:
    """The reset emulator of one test, with clients."""
    server: MotoServer
    ec2: object = field(init=False)
    eks: object = field(init=False)

    def __post_init__(self) -> None:
        self.ec2 = self.server.client("ec2")
        self.eks = self.server.client("eks")

    @property
    def url(self) -> str:
        return self.server.url


def terraform_env_for(url: str) -> dict:
    """Environment under which the provider (a child of Terraform) talks to `url`."""
    return {
        "AWS_ENDPOINT_URL": url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
        # No shared config or credentials files of the machine running the tests.
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }


# ---------------------------------------------------------------- reading AWS state back

def routes_of(ec2, route_table_id: str) -> dict[str, str]:
    """destination CIDR -> target (transit gateway, gateway, NAT, ...) of a route table; IPv4 only."""
    rt = ec2.describe_route_tables(RouteTableIds=[route_table_id])["RouteTables"][0]
    out = {}
    for r in rt["Routes"]:
        dest = r.get("DestinationCidrBlock")
        if not dest:
            continue
        target = (r.get("TransitGatewayId") or r.get("GatewayId") or r.get("NatGatewayId")
                  or r.get("VpcPeeringConnectionId") or r.get("NetworkInterfaceId") or r.get("InstanceId")
                  or r.get("CarrierGatewayId") or r.get("LocalGatewayId") or "")
        out[dest] = target
    return out


def rule_rows(ec2, group_id: str) -> list[dict]:
    """Every rule of a security group, flattened: id, direction, protocol, ports, cidr, description, tags."""
    rows = []
    paginator = ec2.get_paginator("describe_security_group_rules")
    for page in paginator.paginate(Filters=[{"Name": "group-id", "Values": [group_id]}]):
        for r in page["SecurityGroupRules"]:
            rows.append({
                "id": r["SecurityGroupRuleId"],
                "direction": "egress" if r.get("IsEgress") else "ingress",
                "protocol": r.get("IpProtocol"),
                "from_port": r.get("FromPort"),
                "to_port": r.get("ToPort"),
                "cidr": r.get("CidrIpv4"),
                "description": r.get("Description") or "",
                "tags": {t["Key"]: t["Value"] for t in r.get("Tags", [])},
            })
    return rows


def our_rules(ec2, group_id: str) -> set[tuple]:
    """(direction, protocol, from_port, to_port, cidr) of the rules whose description starts with hybridnet:."""
    return {(r["direction"], r["protocol"], r["from_port"], r["to_port"], r["cidr"])
            for r in rule_rows(ec2, group_id) if r["description"].startswith("hybridnet:")}


def tgw_attachments(ec2, vpc_id: str, transit_gateway_id: str | None = None) -> list[dict]:
    """Non-deleted transit gateway VPC attachments of a VPC."""
    filters = [{"Name": "vpc-id", "Values": [vpc_id]}]
    if transit_gateway_id:
        filters.append({"Name": "transit-gateway-id", "Values": [transit_gateway_id]})
    atts = ec2.describe_transit_gateway_vpc_attachments(Filters=filters)["TransitGatewayVpcAttachments"]
    return [a for a in atts if a["State"] not in ("deleted", "deleting", "failed", "rejected")]


def vgw_attachment_state(ec2, vpn_gateway_id: str, vpc_id: str) -> str | None:
    """The state of the VGW's attachment to the VPC ("attached", "detached", ...), None if never attached."""
    gw = ec2.describe_vpn_gateways(VpnGatewayIds=[vpn_gateway_id])["VpnGateways"][0]
    for a in gw.get("VpcAttachments", []):
        if a.get("VpcId") == vpc_id:
            return a.get("State")
    return None
