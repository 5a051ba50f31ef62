"""The README and the registry docs show only checked configuration.

- Every ```hcl / ```terraform / ```tf block of README.md and docs/**/*.md is, byte for
  byte, a file under examples/ (`*.tf`, or `*.tfrc` for CLI configuration). The docs get
  theirs from the generator (`{{ tffile ... }}`); the README's are copies this test keeps
  honest.
- Every example parses (python-hcl2) and is `terraform fmt` clean (CLI configuration
  included). Each `hybridnet_*` resource and data source block, and each `provider
  "hybridnet"` block, is checked against the provider's own schema as Terraform reads it
  (`terraform providers schema -json` of the built binary): every argument and nested
  block exists and is not read-only, every required argument is set, every literal value
  has the attribute's type, and every reference to an attribute of a `hybridnet_*` object
  names one that exists. That covers the examples that also need the AWS provider, which
  cannot be installed here and so are never validated by Terraform itself
  (test_examples.py validates the others).
- Registry pages link only to registry pages, and are in the registry's shape (Example
  Usage before the schema, then Timeouts and Import on a resource page; guides in a
  subcategory).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import hcl2
import pytest

from harness import TerraformWorkdir

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
DOCS = ROOT / "docs"
README = ROOT / "README.md"
#: Developer documents kept beside the registry pages, never linked from them.
DEV_DOCS = {DOCS / "reliability.md", DOCS / "performance.md"}
REGISTRY_PAGES = sorted(p for p in DOCS.rglob("*.md") if p not in DEV_DOCS)
HCL_LANGS = ("hcl", "terraform", "tf")
TF_FILES = sorted(EXAMPLES.rglob("*.tf"))
CLI_CONFIGS = sorted(EXAMPLES.rglob("*.tfrc"))
META_ARGUMENTS = {"count", "for_each", "depends_on", "provider", "lifecycle", "provisioner", "connection"}
OURS = "registry.terraform.io/hybridnet/hybridnet"


def rel(p: Path) -> str:
    return str(p.relative_to(ROOT))


def hcl_blocks(page: Path) -> list[str]:
    return [body.rstrip("\n") for lang, body in re.findall(r"^```(\w*)\n(.*?)^```", page.read_text(), re.S | re.M)
            if lang in HCL_LANGS]


# ----------------------------------------------------------------- the provider's schema

@pytest.fixture(scope="module")
def schema(tmp_path_factory, terraform_bin: str, provider_dir: Path) -> dict:
    work = tmp_path_factory.mktemp("schema") / "config"
    work.mkdir()
    tf = TerraformWorkdir(work, terraform_bin, provider_dir)
    tf.write("")
    r = tf.run("providers", "schema", "-json")
    assert r.ok, r.stderr
    return json.loads(r.stdout)["provider_schemas"][OURS]


def unquote(label: str) -> str:
    return label[1:-1] if len(label) >= 2 and label[0] == label[-1] == '"' else label


def is_expression(v) -> bool:
    """A value python-hcl2 could not reduce to a literal: a reference, a call, a
    conditional (`${...}` as a whole). Its type is Terraform's to check at plan."""
    return isinstance(v, str) and v.startswith("${") and v.endswith("}")


def type_problems(value, ty, where: str) -> list[str]:
    """`value` (python-hcl2's reading of a literal) against a cty type from the schema JSON."""
    if is_expression(value) or ty == "dynamic":
        return []
    kind = ty if isinstance(ty, str) else ty[0]
    if kind == "string":
        ok = isinstance(value, str) and value.startswith('"')
        # Terraform converts numbers and bools to strings.
        ok = ok or (isinstance(value, (int, float)) and not isinstance(value, bool))
        return [] if ok else [f"{where}: {value!r} is not a string"]
    if kind == "number":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return [] if ok else [f"{where}: {value!r} is not a number"]
    if kind == "bool":
        return [] if isinstance(value, bool) else [f"{where}: {value!r} is not a bool"]
    if kind in ("list", "set"):
        if not isinstance(value, list):
            return [f"{where}: {value!r} is not a {kind}"]
        return [p for i, v in enumerate(value) for p in type_problems(v, ty[1], f"{where}[{i}]")]
    if kind == "map":
        if not isinstance(value, dict):
            return [f"{where}: {value!r} is not a map"]
        return [p for k, v in value.items() if not k.startswith("__") for p in type_problems(v, ty[1], f"{where}.{k}")]
    if kind == "object":
        if not isinstance(value, dict):
            return [f"{where}: {value!r} is not an object"]
        attrs = ty[1]
        out = [f"{where}: object has no attribute {k!r} (has {sorted(attrs)})"
               for k in value if not k.startswith("__") and k not in attrs]
        return out + [p for k, v in value.items() if k in attrs for p in type_problems(v, attrs[k], f"{where}.{k}")]
    return [f"{where}: type {ty!r} not understood by this test"]


def block_problems(body: dict, block: dict, where: str, top: bool) -> list[str]:
    """One configuration block against its schema block."""
    out = []
    attrs = block.get("attributes", {})
    nested = block.get("block_types", {})
    for name, value in body.items():
        if name.startswith("__") or (top and name in META_ARGUMENTS):
            continue
        path = f"{where}.{name}"
        if name in attrs:
            a = attrs[name]
            if not (a.get("optional") or a.get("required")):
                out.append(f"{path} is read-only (computed)")
            out.extend(type_problems(value, a["type"], path))
        elif name in nested:
            items = value if isinstance(value, list) else [value]
            for i, item in enumerate(items):
                if not (isinstance(item, dict) and item.get("__is_block__")):
                    out.append(f"{path} is a block, written as an argument")
                    continue
                out.extend(block_problems(item, nested[name]["block"], f"{path}[{i}]", False))
        else:
            out.append(f"{path}: no such argument (the schema has {sorted([*attrs, *nested])})")
    for name, a in attrs.items():
        if a.get("required") and name not in body:
            out.append(f"{where}: required argument {name} missing")
    return out


def reference_problems(text: str, schema: dict) -> list[str]:
    """`data.hybridnet_x.NAME.attr` and `hybridnet_x.NAME.attr` name real attributes."""
    out = []
    for data, ty, attr in re.findall(r"(?<![\w.])(data\.)?(hybridnet_\w+)\.\w+(?:\[[^\]]*\])?\.(\w+)", text):
        kinds = schema["data_source_schemas"] if data else schema["resource_schemas"]
        if ty not in kinds:
            out.append(f"{data}{ty}: no such {'data source' if data else 'resource'}")
        elif attr not in kinds[ty]["block"].get("attributes", {}):
            out.append(f"{data}{ty}.*.{attr}: no such attribute")
    return out


def config_problems(text: str, schema: dict) -> list[str]:
    doc = hcl2.loads(text)
    out = []
    for section, kinds in (("resource", "resource_schemas"), ("data", "data_source_schemas")):
        for entry in doc.get(section, []):
            for ty, named in entry.items():
                ty = unquote(ty)
                if not ty.startswith("hybridnet_"):
                    continue
                if ty not in schema[kinds]:
                    out.append(f"{section} {ty}: the provider has no such type")
                    continue
                for name, body in named.items():
                    out.extend(block_problems(body, schema[kinds][ty]["block"], f"{ty}.{unquote(name)}", True))
    for entry in doc.get("provider", []):
        for name, body in entry.items():
            if unquote(name) == "hybridnet":
                out.extend(block_problems(body, schema["provider"]["block"], "provider.hybridnet", True))
    return out + reference_problems(text, schema)


# ----------------------------------------------------------------- the checks

def test_the_checker_catches_what_it_should(schema):
    """The checks below can fail: a misspelt argument, a wrong type, a read-only
    attribute, a missing required argument, a misspelt nested argument, a bad reference."""
    bad = '''
resource "hybridnet_cluster_network" "x" {
  cluster_nme       = "edge"
  remote_node_cidrs = "192.168.0.0/22"
  create_route_table = "yes"
  vpc_id            = "vpc-1"
  timeouts {
    creat = "1m"
  }
}
output "o" { value = data.hybridnet_cidr_plan.p.vpc_routez }
'''
    got = config_problems(bad, schema)
    want = [
        "hybridnet_cluster_network.x.cluster_nme: no such argument",
        "hybridnet_cluster_network.x.remote_node_cidrs: '\"192.168.0.0/22\"' is not a list",
        "hybridnet_cluster_network.x.create_route_table: '\"yes\"' is not a bool",
        "hybridnet_cluster_network.x.vpc_id is read-only (computed)",
        "hybridnet_cluster_network.x.timeouts[0].creat: no such argument",
        "hybridnet_cluster_network.x: required argument cluster_name missing",
        "data.hybridnet_cidr_plan.*.vpc_routez: no such attribute",
    ]
    for w in want:
        assert any(g.startswith(w) for g in got), (w, got)
    assert len(got) == len(want), got
    good = 'resource "hybridnet_cluster_network" "x" {\n  cluster_name = "edge"\n  remote_node_cidrs = ["192.168.0.0/22"]\n}\n'
    assert config_problems(good, schema) == []


def test_every_hcl_block_of_readme_and_docs_is_an_example_file():
    files = {p.read_text().rstrip("\n"): p for p in [*TF_FILES, *CLI_CONFIGS]}
    seen, strays = [], []
    for page in [README, *sorted(DOCS.rglob("*.md"))]:
        for body in hcl_blocks(page):
            (seen if body in files else strays).append((rel(page), body.splitlines()[0] if body else ""))
    assert strays == [], f"HCL blocks that are not a file under examples/: {strays}"
    readme = [b for b in hcl_blocks(README)]
    assert len(readme) >= 3, "the README shows its minimal configuration and CLI configuration as HCL"
    assert len(seen) >= 20, seen


@pytest.mark.parametrize("example", TF_FILES, ids=rel)
def test_example_matches_the_schema(example: Path, schema):
    assert config_problems(example.read_text(), schema) == []


def test_every_example_uses_the_provider_or_is_cli_configuration():
    """Nothing under examples/ is left unchecked by the schema test: each .tf file
    declares or uses something of this provider."""
    unused = [rel(p) for p in TF_FILES if "hybridnet" not in p.read_text()]
    assert unused == []


@pytest.mark.parametrize("config", CLI_CONFIGS, ids=rel)
def test_cli_configuration_parses_and_is_formatted(config: Path, tmp_path: Path, terraform_bin: str):
    doc = hcl2.loads(config.read_text())
    assert "provider_installation" in doc, doc
    copy = tmp_path / (config.stem + ".tf")  # `terraform fmt` reads .tf files only
    shutil.copy(config, copy)
    p = subprocess.run([terraform_bin, "fmt", "-check", "-diff", "-no-color", str(copy)],
                       capture_output=True, text=True, env={"CHECKPOINT_DISABLE": "1", "PATH": "/usr/bin:/bin"})
    assert p.returncode == 0, p.stdout + p.stderr


def links(page: Path) -> list[str]:
    text = re.sub(r"^```.*?^```", "", page.read_text(), flags=re.S | re.M)
    return re.findall(r"\]\(([^)\s]+)\)", text)


@pytest.mark.parametrize("page", REGISTRY_PAGES, ids=rel)
def test_registry_page_links_stay_in_the_registry(page: Path):
    bad = []
    for target in links(page):
        if target.startswith(("https://", "#")):
            continue
        path = (page.parent / target.split("#")[0]).resolve()
        if not path.is_relative_to(DOCS.resolve()) or path in {d.resolve() for d in DEV_DOCS} or not path.is_file():
            bad.append(target)
    assert bad == [], f"{rel(page)} links outside the registry's pages: {bad}"


def headings(page: Path) -> list[str]:
    text = re.sub(r"^```.*?^```", "", page.read_text(), flags=re.S | re.M)
    return re.findall(r"^(## .+)$", text, re.M)


@pytest.mark.parametrize("page", sorted((DOCS / "resources").glob("*.md")), ids=rel)
def test_resource_page_in_registry_order(page: Path):
    h = headings(page)
    order = ["## Example Usage", "## Schema", "## Timeouts", "## Import"]
    assert [x for x in h if x in order] == order, h
    assert h[:4] == order, f"behaviour sections come after Import: {h}"
    text = page.read_text()
    assert re.search(r"^import \{$", text, re.M) and "terraform import hybridnet_" in text


@pytest.mark.parametrize("page", sorted((DOCS / "data-sources").glob("*.md")), ids=rel)
def test_data_source_page_in_registry_order(page: Path):
    h = headings(page)
    assert h.index("## Example Usage") < h.index("## Schema"), h
    assert h[0] == "## Example Usage", h


@pytest.mark.parametrize("page", sorted((DOCS / "guides").glob("*.md")), ids=rel)
def test_guide_has_a_subcategory(page: Path):
    front = page.read_text().split("---\n")[1]
    assert re.search(r'^subcategory: "[A-Z][\w ]+"$', front, re.M), front


def test_registry_pages_say_nothing_of_the_development_machines():
    for page in REGISTRY_PAGES:
        text = page.read_text()
        for phrase in ("development machine", "2-core", "what changes for existing users", "0.12+", "acceptance-tests/",
                       "pod_network_routable = false`, warnings"):
            assert phrase.lower() not in text.lower(), (rel(page), phrase)


def test_one_way_of_writing_cli_version_constraints():
    """`Terraform 1.5 and later`, never `1.5+`, `1.5 or later` or `>= 1.5` in prose."""
    for page in [README, *REGISTRY_PAGES]:
        text = re.sub(r"^```.*?^```", "", page.read_text(), flags=re.S | re.M)
        odd = re.findall(r"(?:Terraform|OpenTofu) v?\d+\.\d+(?:\.\d+)?(?:\+| or later)", text)
        assert odd == [], (rel(page), odd)


def test_data_source_route_table_id_does_not_name_an_argument_it_lacks(schema):
    ds = schema["data_source_schemas"]["hybridnet_cluster_network"]["block"]
    assert "create_route_table" not in ds["attributes"]
    desc = ds["attributes"]["route_table_id"]["description"]
    assert "null in the data source" in desc, desc


def test_readme_first_screen_is_for_users():
    text = README.read_text()
    h = re.findall(r"^## (.+)$", text, re.M)
    assert h.index("Install") < h.index("Use") < h.index("Try it, test it") < h.index(
        "Developing the provider: `dev_overrides`"), h
    install = text.split("## Install")[1].split("\n## ")[0]
    for platform in ("linux_amd64", "linux_arm64", "darwin_amd64", "darwin_arm64", "windows_amd64"):
        assert f"-platform={platform}" in install and f"`{platform}`" in install, platform
    for target in ("docs/index.md", "docs/guides/iam-permissions.md", "examples/iam/full.json",
                   "examples/iam/tag-scoped.json", "docs/guides/troubleshooting.md"):
        assert f"]({target})" in text, target
        assert (ROOT / target).is_file(), target
    assert "scripts/demo.sh" in text and "bash scripts/test.sh" in text


def test_one_way_of_writing_provider_version_constraints():
    """Every `version = ...` of a required provider is a pessimistic constraint (`~> X.Y`)."""
    odd = [(rel(p), v) for p in TF_FILES for v in re.findall(r'\bversion\s*=\s*"([^"]*)"', p.read_text())
           if not re.fullmatch(r"~> \d+\.\d+", v)]
    assert odd == []
