"""Every fixture of the acceptance tests (helpers are in harness.py).

Session fixtures (started once per session, whatever module asks for them):
- `terraform_bin`, `tofu_bin` (a skip with bootstrap's reason where OpenTofu is not
  built), `provider_dir`;
- `moto_server`: `python -m moto.server` on 127.0.0.1 in a process group of its own,
  stopped (the group killed) at the end; the session asserts there is only ever one;
- `proxy`: the counting, fault-injecting proxy in front of it.

Per test:
- `cli`: Terraform, unless parametrized with `harness.both_clis` / `harness.over_clis`;
- `tf`: a working directory driven by `cli`, no AWS;
- `aws`: the emulator reset before the test, with boto3 clients (`aws.ec2`, `aws.eks`);
- `seeded`: `aws` seeded with a cluster's surroundings (seed.py);
- `aws_env`: the environment under which the provider talks to the emulator;
- `tf_aws`: `tf` against the emulator; `tfp`: Terraform against the emulator through `proxy`;
- `figures` (module): records of the reliability-style tests, written to
  $HYBRIDNET_RELIABILITY_REPORT at the end of the module.

A test takes fixtures as arguments; test modules import nothing from here.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness import (CLIS, MOTO_SERVERS, REPORT, AwsSession, Cli, FaultProxy, Figures, MotoServer, Seed,
                     TerraformWorkdir, kill_leftovers, provider_binary, seed_cluster_network, start_moto,
                     terraform_binary, terraform_env_for, tofu_binary)

#: Per-test time limit (pytest-timeout) unless --timeout / PYTEST_TIMEOUT / an ini says otherwise.
TEST_TIMEOUT = 600
#: Whole-suite cut-off (pytest-timeout's session timeout: no test starts after it), unless
#: --session-timeout says otherwise; HYBRIDNET_SUITE_TIMEOUT (seconds) overrides the default.
SUITE_TIMEOUT = int(os.environ.get("HYBRIDNET_SUITE_TIMEOUT", "5400"))


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    """Defaults for pytest-timeout (it reads them in its own pytest_configure, after this)."""
    if not config.pluginmanager.hasplugin("timeout"):
        raise pytest.UsageError("pytest-timeout is missing: run scripts/bootstrap.sh "
                                "(it installs acceptance-tests/requirements.txt into .venv)")
    if config.getoption("timeout") is None and not os.environ.get("PYTEST_TIMEOUT") and not config.getini("timeout"):
        config.option.timeout = TEST_TIMEOUT
    if config.getoption("session_timeout") is None and not config.getini("session_timeout"):
        config.option.session_timeout = SUITE_TIMEOUT


@pytest.fixture(autouse=True)
def _kill_leftover_commands():
    """After each test, the process group of every command it left running (it failed,
    or its time limit interrupted it) is killed: no Terraform, provider or script
    outlives its test."""
    yield
    kill_leftovers()


@pytest.fixture(scope="session")
def terraform_bin() -> str:
    return terraform_binary()


@pytest.fixture(scope="session")
def tofu_bin() -> str:
    """The OpenTofu binary, or a skip whose reason says why it is missing (`pytest -rs`)."""
    path, why = tofu_binary()
    if path is None:
        pytest.skip(why)
    return path


@pytest.fixture(scope="session")
def provider_dir() -> Path:
    return provider_binary().parent


@pytest.fixture
def cli(request) -> Cli:
    """Terraform, unless parametrized (`@both_clis`, indirect) with "tofu"."""
    name = getattr(request, "param", "terraform")
    if name not in CLIS:
        raise ValueError(f"unknown CLI {name!r}; one of {CLIS}")
    return Cli(name, request.getfixturevalue(f"{name}_bin"))


@pytest.fixture
def tf(tmp_path: Path, cli: Cli, provider_dir: Path) -> TerraformWorkdir:
    work = tmp_path / "config"
    work.mkdir()
    return TerraformWorkdir(work, cli, provider_dir)


# ---------------------------------------------------------------- the emulator

@pytest.fixture(scope="session")
def moto_server(tmp_path_factory) -> MotoServer:
    server = start_moto(tmp_path_factory.mktemp("moto"))
    MOTO_SERVERS.append(server)
    assert len(MOTO_SERVERS) == 1, f"a second moto server in one session: {[s.url for s in MOTO_SERVERS]}"
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def aws(moto_server: MotoServer) -> AwsSession:
    if moto_server.proc.poll() is not None:
        pytest.fail(f"moto server exited:\n{moto_server.log.read_text(errors='replace')[-2000:]}")
    moto_server.reset()
    return AwsSession(moto_server)


@pytest.fixture
def seeded(aws: AwsSession) -> Seed:
    return seed_cluster_network(aws.ec2, aws.eks)


@pytest.fixture
def aws_env(aws: AwsSession) -> dict:
    return terraform_env_for(aws.url)


@pytest.fixture
def tf_aws(tmp_path: Path, cli: Cli, provider_dir: Path, aws_env: dict) -> TerraformWorkdir:
    """The test's CLI (`cli`: Terraform unless `@both_clis`) against moto."""
    work = tmp_path / "config"
    work.mkdir()
    return TerraformWorkdir(work, cli, provider_dir, extra_env=aws_env)


@pytest.fixture(scope="session")
def proxy(moto_server: MotoServer) -> FaultProxy:
    """The counting, fault-injecting, answer-rewriting proxy in front of moto (one per
    session; every test that uses it starts from `configure()`, which resets it)."""
    p = FaultProxy(moto_server.url).start()
    try:
        yield p
    finally:
        p.stop()


@pytest.fixture
def tfp(tmp_path: Path, terraform_bin: str, provider_dir: Path, proxy: FaultProxy) -> TerraformWorkdir:
    """Terraform whose provider talks to AWS through the proxy (faults and rewriting off
    to begin with)."""
    proxy.configure(seed=0, rate=0.0)
    work = tmp_path / "config"
    work.mkdir()
    return TerraformWorkdir(work, terraform_bin, provider_dir, extra_env=terraform_env_for(proxy.url))


@pytest.fixture(scope="module")
def figures():
    f = Figures()
    yield f
    if REPORT:
        f.write(REPORT)
