#!/usr/bin/env python3
"""Checks that every target of Package.swift declares exactly the modules its sources import.

SwiftPM lets a target import a module it does not declare when another dependency brings it along, and keeps
declared dependencies nobody imports: both hide the real layering. Run by `make test`; prints what differs and
exits 1, or exits 0 silently.
"""
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Modules that come with the toolchain or the system, never declared as targets.
SYSTEM = {"Foundation", "FoundationNetworking", "FoundationEssentials", "Glibc", "Musl", "Darwin", "Dispatch",
          "Synchronization", "Testing", "XCTest", "Android", "WinSDK", "ucrt"}
PRODUCTS = {"ArgumentParser": "ArgumentParser", "NIOCore": "NIOCore", "NIOPosix": "NIOPosix", "NIOHTTP1": "NIOHTTP1", "NIOHTTP2": "NIOHTTP2", "NIOHPACK": "NIOHPACK",
            "SwiftProtobuf": "SwiftProtobuf"}

IMPORT = re.compile(r'^(?:@[\w]+(?:\([^)]*\))?\s+)*(?:(?:internal|public|package|private|fileprivate)\s+)?import\s+(?:(?:struct|class|enum|func|var|protocol|typealias)\s+)?([A-Za-z_][A-Za-z0-9_]*)', re.M)


def targets():
    """name -> (type, declared module dependencies, folder), from SwiftPM's own reading of the manifest."""
    manifest = json.loads(subprocess.run(["swift", "package", "dump-package"], cwd=ROOT, check=True,
                                         capture_output=True, text=True).stdout)
    found = {}
    for target in manifest["targets"]:
        deps = set()
        for dependency in target["dependencies"]:
            (kind, value), = dependency.items()
            deps.add(value[0])  # byName / target: [name, condition]; product: [name, package, …]
        folder = target.get("path") or os.path.join("Tests" if target["type"] == "test" else "Sources", target["name"])
        found[target["name"]] = (target["type"], deps, folder)
    return found


def imports(folder):
    modules = set()
    for directory, _, files in os.walk(os.path.join(ROOT, folder)):
        for file in files:
            if file.endswith(".swift"):
                with open(os.path.join(directory, file), encoding="utf-8") as handle:
                    # Block comments and multi-line string literals (scripts embedded in tests) import nothing.
                    text = re.sub(r'/\*.*?\*/|#*"""(.*?)"""#*', "", handle.read(), flags=re.S)
                modules.update(IMPORT.findall(text))
    return modules


def main():
    declared = targets()
    problems = []
    for name, (kind, deps, folder) in sorted(declared.items()):
        if kind == "system":
            continue
        used = {m for m in imports(folder) if m not in SYSTEM and m != name}
        known = {m for m in used if m in declared or m in PRODUCTS}
        unknown = used - known
        for module in sorted(known - deps):
            problems.append(f"{name} imports {module} without declaring it")
        for module in sorted(deps - used):
            problems.append(f"{name} declares {module} but never imports it")
        for module in sorted(unknown):
            problems.append(f"{name} imports {module}, which is neither a target nor a known product")
    for problem in problems:
        print(f"Package.swift: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
