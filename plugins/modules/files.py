#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: files
short_description: Several template, copy and file tasks in one, with one round trip when nothing changes
version_added: 0.3.0
description:
  - Runs a list of M(ansible.builtin.template), M(ansible.builtin.copy) and M(ansible.builtin.file) steps, each
    with that module's own arguments, in order, as one task.
  - First it asks the host, in one module call, which of them are already as described (content, type, owner,
    group, mode, link target). Only the others run, through the builtin module itself, with its check mode,
    diff, C(validate) and C(backup). On a host that is already right the task costs one round trip instead of
    one or two per file.
  - A step whose arguments the module does not fully understand (for example C(recurse), C(remote_src),
    symbolic modes, C(attributes)) is always handed to the builtin module, which decides.
  - The steps run in order and stop at the first failure, as separate tasks would.
  - Templates are rendered by M(ansible.builtin.template) itself, so the content compared is byte for byte the
    content it would write.
author:
  - baremetal.jupyterhub maintainers (@baremetal)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: The check is read-only; each step that would change runs in check mode through its builtin module.
  diff_mode:
    support: full
    details: The diffs of the builtin modules, one per step that changes.
  platform:
    platforms: posix
options:
  files:
    description:
      - The steps, in order. Each has exactly one of O(files[].template), O(files[].copy) or O(files[].file).
    type: list
    elements: dict
    required: true
    suboptions:
      template:
        description:
          - The arguments of M(ansible.builtin.template) (C(src) is looked up in the role's C(templates/)).
        type: dict
      copy:
        description:
          - The arguments of M(ansible.builtin.copy) (C(content), or C(src) in the role's C(files/)).
        type: dict
      file:
        description:
          - The arguments of M(ansible.builtin.file).
        type: dict
      enabled:
        description:
          - Whether this step is part of the task; a step that is not is left out, as a task whose C(when) is
            false would be.
        type: bool
        default: true
      checksum:
        description:
          - Set by the action plugin, not by you. The SHA-1 of the content the step writes.
        type: str
"""

EXAMPLES = r"""
- name: Write nginx's configuration for the hub
  baremetal.jupyterhub.files:
    files:
      - template: {src: site.conf.j2, dest: /etc/nginx/sites-available/jupyterhub, owner: root, group: root, mode: "0644", backup: true}
      - copy: {content: "", dest: /etc/nginx/jupyterhub-banned.conf, owner: root, group: root, mode: "0644", force: false}
      - file: {src: /etc/nginx/sites-available/jupyterhub, path: /etc/nginx/sites-enabled/jupyterhub, state: link, force: true}
  register: written
  notify: Reload nginx

- name: Say which files changed
  ansible.builtin.debug:
    msg: "{{ written.results | selectattr('changed') | map(attribute='path') }}"
"""

RETURN = r"""
checked_by:
  description:
    - How the host was asked which steps are already right. V(command) is one command run by the host's Python
      (the Python Ansible runs modules with); V(module) is this module, where that Python is not known.
  returned: always
  type: str
  sample: command
results:
  description:
    - One entry per step that is enabled, in order. A step that ran returns what its builtin module returns
      (C(dest), C(backup_file), C(diff), ...); a step that was already right returns C(changed=false),
      C(path) and C(dest).
    - Each entry also has C(path) (the file the step is about), C(module) (C(template), C(copy) or C(file))
      and C(ran) (whether the builtin module ran).
  returned: always
  type: list
  elements: dict
  sample: [{"path": "/etc/nginx/sites-available/jupyterhub", "dest": "/etc/nginx/sites-available/jupyterhub",
            "module": "template", "ran": false, "changed": false}]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.baremetal.jupyterhub.plugins.module_utils.file_state import check_steps

SUBOPTIONS = {
    "template": {"type": "dict"},
    "copy": {"type": "dict"},
    "file": {"type": "dict"},
    "enabled": {"type": "bool", "default": True},
    "checksum": {"type": "str"},
}


def main():
    module = AnsibleModule(
        argument_spec={"files": {"type": "list", "elements": "dict", "required": True, "options": SUBOPTIONS}},
        supports_check_mode=True,
    )
    try:
        results = check_steps(module.params["files"])
    except ValueError as err:
        module.fail_json(msg=str(err))
    # This module only reads: the action plugin runs the steps that are not current.
    module.exit_json(changed=False, results=results)


if __name__ == "__main__":
    main()
