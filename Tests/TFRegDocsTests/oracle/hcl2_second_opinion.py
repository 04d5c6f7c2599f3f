"""python-hcl2's reading of .tf files, as JSON lines, for TFRegDocsTests' second opinion.

For each file: {"file", "parsed": true, "variables": {NAME: REQUIRED}} where REQUIRED is whether the
variable block has no `default` argument, or {"file", "parsed": false, "error": TEXT}.
"""
import json
import sys

import hcl2

for path in sys.argv[1:]:
    try:
        with open(path, encoding="utf-8") as f:
            document = hcl2.load(f)
    except Exception as e:  # python-hcl2 raises lark and its own errors alike
        print(json.dumps({"file": path, "parsed": False, "error": f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"}))
        continue
    variables = {}
    for block in document.get("variable", []):
        for name, body in block.items():
            variables[name.strip('"')] = "default" not in body
    print(json.dumps({"file": path, "parsed": True, "variables": variables}))
