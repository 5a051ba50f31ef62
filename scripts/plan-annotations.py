#!/usr/bin/env python3
"""Turns the diagnostics of `terraform plan -json` / `tofu plan -json` (or of
`validate -json`) into GitHub Actions workflow commands, so that a pull request shows
each error on the line it is about:

    ::error file=infra/network.tf,line=12,endLine=12,col=5,endColumn=18,title=Overlapping CIDR::message

Usage:
    terraform plan -json ... | scripts/plan-annotations.py --dir infra
    scripts/plan-annotations.py --dir infra plan.jsonl

--dir is the directory the plan ran in, relative to the repository root (file paths
in diagnostics are relative to it). Warnings become `::warning`; diagnostics without a
source range are annotated without a file. Exit status: 1 when any error was found
(with --fail-on-error), 2 on unreadable input, else 0. Standard library only.

Escaping follows GitHub's toolkit: in the message `%`, CR and LF become `%25`, `%0D`,
`%0A`; in property values (file, title) also `:` and `,` become `%3A` and `%2C`.
"""

from __future__ import annotations

import argparse
import json
import posixpath
import sys
from typing import Iterable, Iterator, TextIO


def escape_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(s: str) -> str:
    return escape_data(s).replace(":", "%3A").replace(",", "%2C")


def diagnostics(stream: TextIO) -> Iterator[dict]:
    """Diagnostics from machine-readable UI lines (plan/apply -json) or from one
    `validate -json` document."""
    text = stream.read()
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            whole = json.loads(stripped)
        except json.JSONDecodeError:
            whole = None
        if isinstance(whole, dict) and "diagnostics" in whole and "type" not in whole:
            yield from whole.get("diagnostics") or []
            return
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            msg = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(msg, dict) and msg.get("type") == "diagnostic" and isinstance(msg.get("diagnostic"), dict):
            yield msg["diagnostic"]


def annotation(diag: dict, directory: str) -> str:
    level = "error" if diag.get("severity") == "error" else "warning"
    summary = str(diag.get("summary") or "").strip()
    detail = str(diag.get("detail") or "").strip()
    address = diag.get("address")
    message = detail or summary
    if address:
        message = f"{address}: {message}"
    props: list[str] = []
    rng = diag.get("range")
    if isinstance(rng, dict) and rng.get("filename"):
        filename = str(rng["filename"])
        path = posixpath.normpath(posixpath.join(directory, filename)) if directory else filename
        start, end = rng.get("start") or {}, rng.get("end") or {}
        props.append(f"file={escape_property(path)}")
        if "line" in start:
            props.append(f"line={int(start['line'])}")
        if "line" in end:
            props.append(f"endLine={int(end['line'])}")
        # Columns only within one line (GitHub ignores them across lines).
        if start.get("line") == end.get("line") and "column" in start and "column" in end:
            props.append(f"col={int(start['column'])}")
            props.append(f"endColumn={int(end['column'])}")
    if summary:
        props.append(f"title={escape_property(summary)}")
    head = f"::{level} {','.join(props)}" if props else f"::{level}"
    return f"{head}::{escape_data(message)}"


def annotations(diags: Iterable[dict], directory: str) -> list[str]:
    out: list[str] = []
    for d in diags:
        line = annotation(d, directory)
        if line not in out:  # plan reports some diagnostics twice (validate, then plan)
            out.append(line)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("file", nargs="?", help="plan -json output (default: standard input)")
    p.add_argument("--dir", default="", help="the directory the plan ran in, relative to the repository root")
    p.add_argument("--fail-on-error", action="store_true", help="exit 1 when any error diagnostic was found")
    a = p.parse_args(argv)
    try:
        if a.file and a.file != "-":
            with open(a.file, encoding="utf-8") as f:
                diags = list(diagnostics(f))
        else:
            diags = list(diagnostics(sys.stdin))
    except OSError as e:
        print(f"plan-annotations: {e}", file=sys.stderr)
        return 2
    directory = a.dir.strip("/")
    for line in annotations(diags, directory):
        print(line)
    errors = sum(1 for d in diags if d.get("severity") == "error")
    return 1 if a.fail_on_error and errors else 0


if __name__ == "__main__":
    sys.exit(main())
