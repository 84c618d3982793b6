# -*- coding: utf-8 -*-
# Copyright: contributors to baremetal.jupyterhub
# BSD 3-Clause License (see galaxy.yml)
"""Ask conda itself whether specs are already satisfied.

``HELPER`` is a small Python program that the conda_env module runs with the Python of the
conda installation (the ``python`` next to the conda executable), so that conda's own
``MatchSpec`` decides, over the records conda itself reads from ``PREFIX/conda-meta``
(``PrefixData``). All specs of one package name are matched together against that package's
record, as conda's solver reads them. pip specs of an environment file are checked with
``packaging`` (a dependency of conda) against the pip-installed versions the module passes on.

The request is a JSON document on stdin: ``{"prefix": P, "specs": [...], "pip_specs": [...],
"pip_installed": {name: version}}``. The answer is one JSON document on stdout:
``{"conda": VERSION, "specs": [{"spec", "name", "satisfied"}], "pip": [{"spec", "satisfied"}]}``,
``{"conda": VERSION, "invalid": MESSAGE}`` for a spec conda cannot parse, or
``{"conda": null, "error": ...}`` when that Python cannot import conda.

This file runs on the managed host: Python 3.8+ and the standard library only (``HELPER``
imports conda and packaging, which the conda installation's own Python has).
"""

from __future__ import annotations

import json
import os

HELPER = r'''
import json
import sys

request = json.loads(sys.stdin.read())
try:
    from conda import __version__ as conda_version
    from conda.core.prefix_data import PrefixData
    from conda.models.match_spec import MatchSpec
except Exception as exc:
    print(json.dumps({"conda": None, "error": "%s: %s" % (type(exc).__name__, exc)}))
    sys.exit(0)

try:
    parsed = [(text, MatchSpec(text)) for text in request["specs"]]
except Exception as exc:
    print(json.dumps({"conda": conda_version, "invalid": "%s: %s" % (type(exc).__name__, exc)}))
    sys.exit(0)

records = {}
for record in PrefixData(request["prefix"]).iter_records():
    records.setdefault(record.name, []).append(record)

groups = {}
for text, spec in parsed:
    groups.setdefault(spec.name, []).append(spec)
satisfied = dict(
    (name, any(all(spec.match(record) for spec in specs) for record in records.get(name, [])))
    for name, specs in groups.items())
answer = {"conda": conda_version,
          "specs": [{"spec": text, "name": spec.name, "satisfied": satisfied[spec.name]} for text, spec in parsed],
          "pip": []}

if request.get("pip_specs"):
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    installed = dict((canonicalize_name(name), version) for name, version in request["pip_installed"].items())
    for text in request["pip_specs"]:
        try:
            req = Requirement(text)
        except InvalidRequirement:
            ok = False  # an URL, a path, -r/-e options: only pip knows
        else:
            version = installed.get(canonicalize_name(req.name))
            ok = bool(version) and not req.url and not req.marker and req.specifier.contains(version, prereleases=True)
        answer["pip"].append({"spec": text, "satisfied": ok})

print(json.dumps(answer, sort_keys=True))
'''


def conda_python(executable):
    """The Python of the conda installation that holds executable (PREFIX/bin/conda or
    PREFIX/condabin/conda, symbolic links resolved): PREFIX/bin/python."""
    prefix = os.path.dirname(os.path.dirname(os.path.realpath(executable)))
    return os.path.join(prefix, "bin", "python")


def request(prefix, specs, pip_specs=(), pip_installed=None):
    return json.dumps({"prefix": prefix, "specs": list(specs), "pip_specs": list(pip_specs),
                       "pip_installed": dict(pip_installed or {})}, sort_keys=True)
