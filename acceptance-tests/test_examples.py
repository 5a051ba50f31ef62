"""Every example under examples/ (which is where every HCL block of docs/ comes from)
goes through real Terraform:

- one that needs only this provider: `terraform validate` passes with no warning, or, in
  a directory with `expected-errors.txt` (shown in the docs), fails with exactly the
  errors listed there;
- one that needs a provider this machine cannot install (no registry access): `terraform
  fmt -check`, as every example also gets.

An example with an `import` block (Terraform 1.5+, OpenTofu) is validated by OpenTofu:
Terraform 1.0.3 does not know the block (and skipped with the reason where OpenTofu is
not built).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from harness import (Cli, TerraformWorkdir, run_command)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
DOCS = ROOT / "docs"
OURS = "hybridnet/hybridnet"

# Provider-defined functions need Terraform 1.8+ or OpenTofu 1.7+: Terraform 1.0.3
# cannot parse `provider::NAME::FUNC(...)`, so test_functions.py checks those
# examples (tofu fmt and validate) instead.
FUNCTIONS = EXAMPLES / "functions"
ALL = sorted(p for p in EXAMPLES.rglob("*.tf") if FUNCTIONS not in p.parents)


def sources(text: str) -> set[str]:
    return set(re.findall(r'source\s*=\s*"([^"]+)"', text))


def needs_only_us(path: Path) -> bool:
    return sources(path.read_text()) <= {OURS}


def expected_errors(path: Path) -> list[str] | None:
    f = path.parent / "expected-errors.txt"
    if not f.exists():
        return None
    return [line.removeprefix("Error: ").strip() for line in f.read_text().splitlines() if line.strip()]


def needs_import_blocks(path: Path) -> bool:
    return re.search(r"^import\s*\{", path.read_text(), re.M) is not None


def rel(p: Path) -> str:
    return str(p.relative_to(ROOT))


def test_examples_exist_in_both_kinds():
    assert [p for p in ALL if needs_only_us(p)], "no example validates with this provider alone"
    assert [p for p in ALL if not needs_only_us(p)], "no example needs another provider (fmt-only path untested)"
    assert [p for p in ALL if expected_errors(p) is not None], "no rejected example"
    assert [p for p in ALL if needs_import_blocks(p)], "no import-block example (validated by OpenTofu)"


@pytest.mark.parametrize("example", [p for p in ALL if needs_only_us(p)], ids=rel)
def test_example_validates_or_fails_as_documented(example: Path, tmp_path: Path, request, provider_dir):
    work = tmp_path / "config"
    work.mkdir()
    cli = (Cli("tofu", request.getfixturevalue("tofu_bin")) if needs_import_blocks(example)
           else Cli("terraform", request.getfixturevalue("terraform_bin")))
    tf = TerraformWorkdir(work, cli, provider_dir)
    shutil.copy(example, work / example.name)
    if "required_providers" not in example.read_text():
        # A snippet (resource or data source only): the docs' provider page shows this block.
        (work / "providers.tf").write_text(
            'terraform {\n  required_providers {\n    hybridnet = { source = "hybridnet/hybridnet" }\n  }\n}\n')
    r = tf.validate()
    want = expected_errors(example)
    if want is None:
        assert r.ok, f"{rel(example)} does not validate:\n{r.stdout}\n{r.stderr}"
        assert r.errors() == [] and r.warnings() == [], r.stdout
    else:
        assert not r.ok, f"{rel(example)} is documented as rejected but validates"
        assert sorted(d["summary"] for d in r.errors()) == sorted(want), r.stdout


@pytest.mark.parametrize("example", [p for p in ALL if not needs_only_us(p)], ids=rel)
def test_example_needing_other_providers_is_formatted(example: Path, terraform_bin):
    p = run_command([terraform_bin, "fmt", "-check", "-diff", "-no-color", str(example)],
                    env={"CHECKPOINT_DISABLE": "1", "PATH": "/usr/bin:/bin"})
    assert p.returncode == 0, f"{rel(example)} is not `terraform fmt` clean:\n{p.stdout}{p.stderr}"
    # It still uses this provider's real types and arguments: the names must exist.
    text = example.read_text()
    assert "hybridnet_" in text and OURS in sources(text)


def test_every_example_is_formatted(terraform_bin):
    dirs = sorted(str(d) for d in EXAMPLES.iterdir() if d.is_dir() and d != FUNCTIONS)
    for d in dirs:
        p = run_command([terraform_bin, "fmt", "-check", "-recursive", "-diff", "-no-color", d],
                        env={"CHECKPOINT_DISABLE": "1", "PATH": "/usr/bin:/bin"})
        assert p.returncode == 0, p.stdout + p.stderr


def test_every_hcl_block_of_the_docs_is_an_example_file():
    files = {p.read_text().rstrip("\n") for p in EXAMPLES.rglob("*.tf")}
    blocks = []
    for page in DOCS.rglob("*.md"):
        for lang, body in re.findall(r"```(\w*)\n(.*?)```", page.read_text(), re.S):
            if lang in ("terraform", "hcl", "tf"):
                blocks.append((rel(page), body.rstrip("\n")))
    assert blocks, "the docs show no HCL"
    strays = [page for page, body in blocks if body not in files]
    assert strays == [], f"HCL in {strays} is not a file under examples/"
