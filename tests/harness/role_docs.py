"""Keep each role's README table of variables in step with its meta/argument_specs.yml.

    python tests/harness/role_docs.py          rewrite the tables
    python tests/harness/role_docs.py --check  fail if a README is out of date (run by `make lint`)

The table sits between <!-- BEGIN VARIABLES --> and <!-- END VARIABLES --> in
roles/<role>/README.md; the rest of the README is written by hand.
"""

import pathlib
import re
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
BEGIN, END = "<!-- BEGIN VARIABLES -->", "<!-- END VARIABLES -->"


def _text(value):
    if isinstance(value, list):
        value = " ".join(value)
    value = re.sub(r"\b[CIV]\(([^)]*)\)", r"`\1`", " ".join(str(value).split()))  # ansible-doc markup
    return value.replace("|", "\\|")


def _default(option):
    if "default" not in option:
        return "*required*" if option.get("required") else ""
    value = option["default"]
    if value in ("", [], {}):
        return f"`{yaml.safe_dump(value, default_flow_style=True).strip()}`" if value != "" else '`""`'
    return f"`{value}`" if not isinstance(value, bool) else f"`{str(value).lower()}`"


def table(spec):
    rows = ["| variable | type | default | description |", "|---|---|---|---|"]
    for name, option in spec["options"].items():
        kind = option.get("type", "str")
        if kind == "list" and "elements" in option:
            kind = f"list of {option['elements']}"
        if "choices" in option:
            kind += " (" + ", ".join(str(c) for c in option["choices"]) + ")"
        rows.append(f"| `{name}` | {kind} | {_default(option)} | {_text(option.get('description', ''))} |")
    return "\n".join(rows)


def main(check):
    stale = []
    for specs in sorted(ROOT.glob("roles/*/meta/argument_specs.yml")):
        role = specs.parent.parent
        spec = yaml.safe_load(specs.read_text())["argument_specs"]["main"]
        readme = role / "README.md"
        text = readme.read_text() if readme.exists() else ""
        if BEGIN not in text or END not in text:
            stale.append(f"{readme.relative_to(ROOT)}: no {BEGIN} ... {END} block")
            continue
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        new = f"{head}{BEGIN}\n{table(spec)}\n{END}{tail}"
        if new != text:
            if check:
                stale.append(f"{readme.relative_to(ROOT)}: variables table differs from meta/argument_specs.yml")
            else:
                readme.write_text(new)
    for line in stale:
        print(line, file=sys.stderr)
    if stale and check:
        print("run: python tests/harness/role_docs.py", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main("--check" in sys.argv[1:]))
