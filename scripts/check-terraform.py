#!/usr/bin/env python3
"""Static checks of the deployment module (packaging/terraform), which tests cannot apply without an
AWS account. Every .tf file must parse (python-hcl2); in the module and in each example:
  - every variable has a type and a non-empty description, and a validation unless it is a bool;
  - every output has a description;
  - every var.X used is declared and every declared variable is used;
  - every resource or data source referenced (aws_x.name, data.aws_x.name) is declared, and so is
    every local.X;
  - every `#checkov:skip=CHECK:reason` gives its reason;
  - each example calls the module with arguments that are its variables, passing every variable
    that has no default.
Prints what it checked; exits 1 on the first list of problems.

usage: check-terraform.py MODULE_DIR
"""
import os
import re
import sys

import hcl2


def unquote(s):
    return s[1:-1] if isinstance(s, str) and len(s) >= 2 and s[0] == s[-1] == '"' else s


def load_dir(path):
    blocks = {"variable": {}, "output": {}, "resource": set(), "data": set(), "locals": set(), "module": {}}
    text = []
    for name in sorted(os.listdir(path)):
        if not name.endswith(".tf"):
            continue
        full = os.path.join(path, name)
        with open(full) as f:
            source = f.read()
        try:
            parsed = hcl2.loads(source)
        except Exception as e:  # hcl2 raises lark errors of several kinds
            raise SystemExit(f"check-terraform: {full} does not parse: {e}")
        text.append(source)
        for v in parsed.get("variable", []):
            for k, body in v.items():
                blocks["variable"][unquote(k)] = (full, body)
        for o in parsed.get("output", []):
            for k, body in o.items():
                blocks["output"][unquote(k)] = (full, body)
        for r in parsed.get("resource", []):
            for kind, named in r.items():
                for n in named:
                    blocks["resource"].add(f"{unquote(kind)}.{unquote(n)}")
        for r in parsed.get("data", []):
            for kind, named in r.items():
                for n in named:
                    blocks["data"].add(f"data.{unquote(kind)}.{unquote(n)}")
        for l in parsed.get("locals", []):
            blocks["locals"].update(k for k in l if not k.startswith("__"))
        for m in parsed.get("module", []):
            for k, body in m.items():
                blocks["module"][unquote(k)] = (full, body)
    for line in "\n".join(text).splitlines():
        m = re.search(r"#\s*checkov:skip=([A-Z0-9_]+)(?::(.*))?", line)
        if m and not (m.group(2) or "").strip():
            blocks.setdefault("unexplained", []).append(m.group(1))
    # Comments are not code: drop them before looking for references.
    code = re.sub(r"(?m)#.*$", "", "\n".join(text))
    return blocks, code


def check_dir(path, problems):
    b, code = load_dir(path)
    for name, (f, body) in b["variable"].items():
        desc = unquote(body.get("description", ""))
        if not desc or not desc.strip():
            problems.append(f"{f}: variable {name} has no description")
        if "type" not in body:
            problems.append(f"{f}: variable {name} has no type")
        elif body["type"] != "bool" and not body.get("validation"):
            problems.append(f"{f}: variable {name} ({body['type']}) has no validation")
    for check in b.get("unexplained", []):
        problems.append(f"{path}: checkov skip of {check} without a reason")
    for name, (f, body) in b["output"].items():
        if not unquote(body.get("description", "")).strip():
            problems.append(f"{f}: output {name} has no description")
    used_vars = set(re.findall(r"\bvar\.([A-Za-z_][A-Za-z0-9_-]*)", code))
    for v in sorted(used_vars - set(b["variable"])):
        problems.append(f"{path}: var.{v} is used but not declared")
    for v in sorted(set(b["variable"]) - used_vars):
        problems.append(f"{path}: variable {v} is declared but never used")
    for l in sorted(set(re.findall(r"\blocal\.([A-Za-z_][A-Za-z0-9_]*)", code)) - b["locals"]):
        problems.append(f"{path}: local.{l} is used but not declared")
    for kind, name in sorted(set(re.findall(r"(?<![\w.])data\.(aws_[a-z0-9_]+)\.([a-z0-9_]+)", code))):
        if f"data.{kind}.{name}" not in b["data"]:
            problems.append(f"{path}: data.{kind}.{name} is referenced but not declared")
    for kind, name in sorted(set(re.findall(r"(?<![\w.\"])(aws_[a-z0-9_]+)\.([a-z0-9_]+)", code))):
        if f"{kind}.{name}" not in b["resource"]:
            problems.append(f"{path}: {kind}.{name} is referenced but not declared")
    return b


def main():
    root = sys.argv[1]
    problems = []
    module = check_dir(root, problems)
    print(f"check-terraform: {root}: {len(module['variable'])} variables, {len(module['output'])} outputs, "
          f"{len(module['resource'])} resources, {len(module['data'])} data sources")
    examples = os.path.join(root, "examples")
    for ex in sorted(os.listdir(examples)) if os.path.isdir(examples) else []:
        path = os.path.join(examples, ex)
        b = check_dir(path, problems)
        calls = [(n, f, body) for n, (f, body) in b["module"].items()
                 if os.path.normpath(os.path.join(path, unquote(body.get("source", "")))) == os.path.normpath(root)]
        if not calls:
            problems.append(f"{path}: no module block with source pointing at {root}")
        for n, f, body in calls:
            args = {k for k in body if k not in ("source", "providers", "depends_on", "__is_block__")}
            for a in sorted(args - set(module["variable"])):
                problems.append(f"{f}: module {n} passes {a}, which the module does not declare")
            for v, (_, vb) in module["variable"].items():
                if "default" not in vb and v not in args:
                    problems.append(f"{f}: module {n} does not pass the required variable {v}")
        print(f"check-terraform: {path}: {len(calls)} module call(s) checked against the module's variables")
    if problems:
        print("\n".join(problems), file=sys.stderr)
        sys.exit(1)
    print("check-terraform: ok")


if __name__ == "__main__":
    main()
