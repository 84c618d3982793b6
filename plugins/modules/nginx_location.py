#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: nginx_location
short_description: Take over the hub's location in an admin's nginx site, as the bare-metal guide wrote it
version_added: 0.2.0
description:
  - Reads nginx configuration files (an admin's sites) and finds every C(location) block for the hub's path
    (O(location), with or without its trailing slash).
  - A block that the bare-metal guide wrote (only C(proxy_*) and C(client_max_body_size) directives, passing to
    a loopback address) is replaced, in place, by C(include INCLUDE;) with the same indentation, so that
    the server block it stands in serves the hub with the collection's snippet. Everything else in the file stays
    byte for byte as it was.
  - The guide's C(map $http_upgrade $connection_upgrade) block is removed from the same file when no other
    directive in O(paths) still uses the map's variable.
  - Any other block for the hub's path is refused, before any file is changed, with the file, the lines and
    their text, for the admin to remove.
  - Also reports which server blocks are the default server on which ports, and which already include O(include),
    for the caller to decide who serves which port.
  - With O(state=absent) (uninstalling), every C(include INCLUDE;) line is removed from the files instead, so that
    the admin's sites still load once the snippet is gone; nothing else in them changes.
  - Files are replaced atomically; with O(backup_dir), a copy of each changed file is kept there first.
author:
  - baremetal.jupyterhub maintainers (@baremetal)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: In check mode the module reads and reports, and refuses what it would refuse, but writes nothing.
  diff_mode:
    support: full
  platform:
    platforms: posix
options:
  paths:
    description:
      - Files to read, as paths or shell patterns (for example C(/etc/nginx/sites-enabled/*)).
      - Symbolic links are followed; a file reached twice is read once. Patterns that match nothing are fine.
    type: list
    elements: str
    required: true
  exclude:
    description:
      - Files (after links are followed) to leave out, such as the collection's own site.
    type: list
    elements: path
    default: []
  location:
    description:
      - The hub's path, such as C(/jupyter/). Must start and end with C(/).
    type: str
    required: true
  include:
    description:
      - The absolute path of the snippet that serves the hub, included in place of the guide's block.
    type: path
    required: true
  state:
    description:
      - V(present) takes the guide's block over (and refuses any other block for the hub's path).
      - V(absent) removes the C(include) lines of O(include) that V(present) wrote.
    type: str
    choices: [present, absent]
    default: present
  ports:
    description:
      - Ports whose default servers are reported in RV(default_servers).
    type: list
    elements: int
    default: [80, 443]
  backup_dir:
    description:
      - A directory to keep a copy of each file in before it is changed (created C(0700) if missing; the copy's
        path is in RV(files)). Not beside the file, because nginx would read a copy left in C(sites-enabled).
      - Empty (the default) keeps no copy.
    type: path
    default: ""
"""

EXAMPLES = r"""
- name: Look for the guide's hub location in the enabled sites (changes nothing)
  baremetal.jupyterhub.nginx_location:
    paths: [/etc/nginx/sites-enabled/*, /etc/nginx/conf.d/*.conf]
    exclude: [/etc/nginx/sites-available/jupyterhub.conf]
    location: /jupyter/
    include: /etc/nginx/snippets/jupyterhub.conf
  check_mode: true
  register: found

- name: Replace it by the collection's snippet
  baremetal.jupyterhub.nginx_location:
    paths: [/etc/nginx/sites-enabled/*]
    location: /jupyter/
    include: /etc/nginx/snippets/jupyterhub.conf
    backup_dir: /var/backups/baremetal-jupyterhub

- name: Before the snippet is removed, stop including it
  baremetal.jupyterhub.nginx_location:
    paths: [/etc/nginx/sites-enabled/*, /etc/nginx/conf.d/*.conf]
    location: /jupyter/
    include: /etc/nginx/snippets/jupyterhub.conf
    state: absent
"""

RETURN = r"""
files:
  description:
    - The files changed (or, in check mode, that would be), with what was done (C(replaced_lines) and
      C(removed_map_lines), or with O(state=absent) C(removed_include_lines)) and the backup made.
  returned: always
  type: list
  elements: dict
  sample: [{"path": "/etc/nginx/sites-available/default", "replaced_lines": "31-46", "removed_map_lines": "21-24",
            "backup_file": "/var/backups/baremetal-jupyterhub/default.20261204T200000Z"}]
default_servers:
  description: The server blocks that are the default server on one of O(ports), and whether they serve the hub.
  returned: always
  type: list
  elements: dict
  sample: [{"path": "/etc/nginx/sites-available/default", "port": 80, "line": 22, "serves_hub": true}]
serving:
  description: The files whose server blocks serve the hub with O(include), once the guide's block is replaced.
  returned: always
  type: list
  elements: str
"""

import glob
import os
import re
import shutil
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.baremetal.jupyterhub.plugins.module_utils.nginx_conf import (
    NginxSyntaxError, indent_of, line_span, listen_port, parse)

# What the guide's block holds, and what an admin may have added to it alike.
GUIDE_DIRECTIVES = frozenset([
    "proxy_pass", "proxy_redirect", "proxy_set_header", "proxy_http_version", "proxy_buffering",
    "proxy_request_buffering", "proxy_read_timeout", "proxy_send_timeout", "proxy_connect_timeout",
    "client_max_body_size",
])
LOOPBACK_UPSTREAM = re.compile(r"^http://(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(/.*)?$")
MAP_VAR = "$connection_upgrade"


def guide_problem(node):
    """Why a location block is not the guide's, or None when it is."""
    for child in node.children:
        if child.children is not None or child.name not in GUIDE_DIRECTIVES:
            return "it holds '%s' (line %d)" % (child.name, child.line)
        if child.name == "proxy_pass" and not (child.args and LOOPBACK_UPSTREAM.match(child.args[0])):
            return "it passes to %s, not to the hub on this host" % " ".join(child.args)
    if not any(child.name == "proxy_pass" for child in node.children):
        return "it has no proxy_pass"
    return None


def is_hub_location(node, uri):
    if node.name != "location" or node.children is None:
        return False
    args = [a for a in node.args if a != "^~"]
    return args in ([uri], [uri.rstrip("/")])


def uses_var(nodes, var, skip):
    """Whether a directive outside the blocks in skip (and outside the map that defines var) uses var."""
    for node in nodes:
        if node in skip or (node.name == "map" and len(node.args) > 1 and node.args[1] == var):
            continue
        if any(var in arg for arg in node.args) or uses_var(node.children or [], var, skip):
            return True
    return False


def read_files(module, patterns, exclude):
    seen, files = set(), []
    exclude = set(os.path.realpath(p) for p in exclude)
    for pattern in patterns:
        for path in sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]:
            real = os.path.realpath(path)
            if real in seen or real in exclude or not os.path.isfile(real):
                continue
            seen.add(real)
            try:
                with open(real, "rb") as f:
                    text = f.read().decode("utf-8", "surrogateescape")
                files.append((real, text, parse(text)))
            except (IOError, OSError) as e:
                module.fail_json(msg="cannot read %s: %s; nothing was changed" % (real, e))
            except NginxSyntaxError as e:
                module.fail_json(msg="cannot read %s as an nginx file: %s; nothing was changed" % (real, e))
    return files


def plan(files, uri, include):
    """What to change in each file, what to refuse, and who is the default server where."""
    changes, refusals, defaults, serving = [], [], [], []
    all_nodes = [node for _path, _text, nodes in files for node in nodes]
    for path, text, nodes in files:
        hub_blocks, includes, servers = [], False, []
        for top in nodes:
            for node in top.walk():
                if node.name == "server" and node.children is not None:
                    servers.append(node)
                if is_hub_location(node, uri):
                    hub_blocks.append(node)
                if node.name == "include" and node.args == [include]:
                    includes = True
        for node in hub_blocks:
            problem = guide_problem(node)
            if problem:
                start, end = line_span(text, node)
                refusals.append("%s lines %d-%d hold a location for %s that is not the bare-metal guide's (%s):\n%s"
                                % (path, node.line, node.end_line, uri, problem, text[start:end].rstrip("\n")))
        guide_blocks = [n for n in hub_blocks if guide_problem(n) is None]
        maps = []
        if guide_blocks and not uses_var(all_nodes, MAP_VAR, set(guide_blocks)):
            maps = [n for n in nodes if n.name == "map" and len(n.args) > 1 and n.args[1] == MAP_VAR]
        if guide_blocks:
            changes.append((path, text, guide_blocks, maps))
        if guide_blocks or includes:
            serving.append(path)
        for server in servers:
            for child in server.children:
                if child.name == "listen" and ("default_server" in child.args or "default" in child.args[1:]):
                    defaults.append({"path": path, "port": listen_port(child.args), "line": child.line,
                                     "serves_hub": path in serving})
    return changes, refusals, defaults, serving


def includes_of(files, include):
    """Per file, the include directives of the snippet, for state=absent."""
    out = []
    for path, text, nodes in files:
        found = [node for top in nodes for node in top.walk() if node.name == "include" and node.args == [include]]
        if found:
            out.append((path, text, found))
    return out


def rewrite(text, blocks, maps, include):
    edits = []
    for node in blocks:
        start, end = line_span(text, node)
        newline = "\n" if text[start:end].endswith("\n") else ""
        lead = indent_of(text, node) if start != node.start else ""
        edits.append((start, end, "%sinclude %s;%s" % (lead, include, newline)))
    for node in maps:
        start, end = line_span(text, node)
        edits.append((start, end, ""))
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def keep_copy(module, path, backup_dir):
    try:
        if not os.path.isdir(backup_dir):
            os.makedirs(backup_dir, 0o700)
        dest = os.path.join(backup_dir, "%s.%s" % (os.path.basename(path), time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())))
        shutil.copy2(path, dest)
    except (IOError, OSError) as e:
        module.fail_json(msg="cannot keep a copy of %s in %s: %s; nothing was changed" % (path, backup_dir, e))
    return dest


def main():
    module = AnsibleModule(
        argument_spec=dict(
            paths=dict(type="list", elements="str", required=True),
            exclude=dict(type="list", elements="path", default=[]),
            location=dict(type="str", required=True),
            include=dict(type="path", required=True),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            ports=dict(type="list", elements="int", default=[80, 443]),
            backup_dir=dict(type="path", default=""),
        ),
        supports_check_mode=True,
    )
    p = module.params
    uri = p["location"]
    if not re.match(r"^/([^\s;{}#'\"]*/)?$", uri):
        module.fail_json(msg="location must be a path that starts and ends with '/', such as /jupyter/, got %r" % uri)
    if not os.path.isabs(p["include"]):
        module.fail_json(msg="include must be an absolute path, got %r" % p["include"])

    files = read_files(module, p["paths"], p["exclude"])
    if p["state"] == "absent":
        changes = [(path, text, found, []) for path, text, found in includes_of(files, p["include"])]
        refusals, defaults, serving = [], [], []
    else:
        changes, refusals, defaults, serving = plan(files, uri, p["include"])
    defaults = [d for d in defaults if d["port"] in p["ports"]]
    if refusals:
        module.fail_json(
            msg="The hub's path %s is already served by nginx in a way the collection does not take over. Remove these "
                "lines (or choose another jupyterhub_base_url) and run again; nothing was changed.\n%s"
                % (uri, "\n".join(refusals)),
            default_servers=defaults)

    result = dict(changed=bool(changes), files=[], default_servers=defaults, serving=serving)
    diffs = []
    for path, text, blocks, maps in changes:
        if p["state"] == "absent":
            new_text = rewrite(text, [], blocks, p["include"])
            entry = {"path": path, "removed_include_lines": ", ".join(str(b.line) for b in blocks)}
        else:
            new_text = rewrite(text, blocks, maps, p["include"])
            entry = {"path": path, "replaced_lines": ", ".join("%d-%d" % (b.line, b.end_line) for b in blocks),
                     "removed_map_lines": ", ".join("%d-%d" % (m.line, m.end_line) for m in maps)}
        diffs.append({"before": text, "after": new_text, "before_header": path, "after_header": path})
        if not module.check_mode:
            if p["backup_dir"]:
                entry["backup_file"] = keep_copy(module, path, p["backup_dir"])
            st = os.stat(path)
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".%s." % os.path.basename(path))
            with os.fdopen(fd, "wb") as f:
                f.write(new_text.encode("utf-8", "surrogateescape"))
            os.chmod(tmp, st.st_mode & 0o7777)
            module.atomic_move(tmp, path)
        result["files"].append(entry)
    if module._diff:
        result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
