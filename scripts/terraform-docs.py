#!/usr/bin/env python3
"""The Requirements, Providers, Resources, Inputs and Outputs sections of a Terraform module's
README, in terraform-docs' layout, generated from the module's .tf files (python-hcl2) between the
markers terraform-docs uses:

    <!-- BEGIN_TF_DOCS -->
    ...generated...
    <!-- END_TF_DOCS -->

  terraform-docs.py DIR...          check: exit 1 with a diff when a README differs from its .tf files
  terraform-docs.py --write DIR...  rewrite the generated part of each README

terraform-docs itself is a Go binary that is not packaged for Debian; this keeps the same layout
with what `make terraform-check` already installs.
"""
import difflib
import json
import os
import re
import sys

import hcl2

BEGIN, END = "<!-- BEGIN_TF_DOCS -->", "<!-- END_TF_DOCS -->"
DOCS = "https://registry.terraform.io/providers/{source}/latest/docs/{kind}/{name}"


def unquote(s):
    if isinstance(s, str) and len(s) >= 2 and s[0] == s[-1] == '"':
        return s[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return s


def expr(s):
    """A type or expression as written: python-hcl2 wraps expressions in ${...}."""
    s = unquote(s) if isinstance(s, str) else s
    if isinstance(s, str) and s.startswith("${") and s.endswith("}"):
        return s[2:-1]
    return s


def hcl_value(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return json.dumps(v)
    if isinstance(v, str):
        if v.startswith("${"):
            return expr(v)
        return json.dumps(unquote(v))
    if isinstance(v, list):
        return "[" + ", ".join(hcl_value(x) for x in v) + "]"
    if isinstance(v, dict):
        items = [(k, x) for k, x in v.items() if not k.startswith("__")]
        return "{" + ", ".join(f"{unquote(k)} = {hcl_value(x)}" for k, x in items) + "}"
    return str(v)


def cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ").strip()


def load(path):
    module = {"terraform": None, "providers": {}, "configured": set(), "modules": {}, "resources": [], "variables": {},
              "outputs": {}}
    for name in sorted(os.listdir(path)):
        if not name.endswith(".tf"):
            continue
        with open(os.path.join(path, name)) as f:
            parsed = hcl2.loads(f.read())
        for t in parsed.get("terraform", []):
            if "required_version" in t:
                module["terraform"] = unquote(t["required_version"])
            for rp in t.get("required_providers", []):
                for p, spec in rp.items():
                    if not p.startswith("__"):
                        module["providers"][p] = {k: unquote(v) for k, v in spec.items()}
        for p in parsed.get("provider", []):
            module["configured"].update(unquote(k) for k in p if not k.startswith("__"))
        for mod in parsed.get("module", []):
            for k, body in mod.items():
                module["modules"][unquote(k)] = (unquote(body.get("source", "")), unquote(body.get("version", "n/a")))
        for kind, block in (("resource", "resource"), ("data source", "data")):
            for r in parsed.get(block, []):
                for rtype, named in r.items():
                    for n in named:
                        module["resources"].append((unquote(rtype), unquote(n), kind))
        for v in parsed.get("variable", []):
            for k, body in v.items():
                module["variables"][unquote(k)] = body
        for o in parsed.get("output", []):
            for k, body in o.items():
                module["outputs"][unquote(k)] = body
    return module


def render(m):
    out = [BEGIN, "## Requirements", "", "| Name | Version |", "|------|---------|"]
    if m["terraform"]:
        out.append(f"| terraform | {cell(m['terraform'])} |")
    for p, spec in sorted(m["providers"].items()):
        out.append(f"| {p} | {cell(spec.get('version', 'n/a'))} |")
    out += ["", "## Providers", "", "| Name | Version |", "|------|---------|"]
    used = sorted({t.split("_", 1)[0] for t, _, _ in m["resources"]} | m["configured"])
    for p in used:
        out.append(f"| {p} | {cell(m['providers'].get(p, {}).get('version', 'n/a'))} |")
    if not used:
        out.append("| none | |")
    if m["modules"]:
        out += ["", "## Modules", "", "| Name | Source | Version |", "|------|--------|---------|"]
        for name, (source, version) in sorted(m["modules"].items()):
            out.append(f"| {name} | {cell(source)} | {cell(version)} |")
    out += ["", "## Resources", "", "| Name | Type |", "|------|------|"]
    for rtype, name, kind in sorted(m["resources"], key=lambda r: (r[0], r[1], r[2])):
        provider, short = rtype.split("_", 1)
        source = m["providers"].get(provider, {}).get("source", f"hashicorp/{provider}")
        url = DOCS.format(source=source, kind="resources" if kind == "resource" else "data-sources", name=short)
        prefix = "" if kind == "resource" else "data."
        out.append(f"| [{prefix}{rtype}.{name}]({url}) | {kind} |")
    if not m["resources"]:
        out.append("| none | |")
    out += ["", "## Inputs", "", "| Name | Description | Type | Default | Required |",
            "|------|-------------|------|---------|:--------:|"]
    for name, body in sorted(m["variables"].items()):
        required = "default" not in body
        default = "n/a" if required else f"`{hcl_value(body['default'])}`"
        out.append(f"| {name} | {cell(unquote(body.get('description', '')))} | `{cell(expr(body.get('type', 'any')))}` "
                   f"| {cell(default)} | {'yes' if required else 'no'} |")
    out += ["", "## Outputs", "", "| Name | Description |", "|------|-------------|"]
    for name, body in sorted(m["outputs"].items()):
        out.append(f"| {name} | {cell(unquote(body.get('description', '')))} |")
    out.append(END)
    return "\n".join(out)


def main():
    args = sys.argv[1:]
    write = "--write" in args
    dirs = [a for a in args if a != "--write"]
    if not dirs:
        raise SystemExit(__doc__)
    drift = False
    for d in dirs:
        readme = os.path.join(d, "README.md")
        text = open(readme).read() if os.path.exists(readme) else ""
        generated = render(load(d))
        pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
        if not pattern.search(text):
            if not write:
                print(f"terraform-docs: {readme}: no {BEGIN} ... {END} section", file=sys.stderr)
                drift = True
                continue
            new = text.rstrip("\n") + "\n\n" + generated + "\n"
        else:
            new = pattern.sub(lambda _: generated, text)
        if new == text:
            print(f"terraform-docs: {readme}: in sync")
        elif write:
            with open(readme, "w") as f:
                f.write(new)
            print(f"terraform-docs: {readme}: rewritten")
        else:
            drift = True
            sys.stderr.writelines(difflib.unified_diff(text.splitlines(True), new.splitlines(True), readme, readme + " (from the .tf files)"))
            print(f"terraform-docs: {readme} is out of date: python3 scripts/terraform-docs.py --write {d}", file=sys.stderr)
    sys.exit(1 if drift else 0)


if __name__ == "__main__":
    main()
