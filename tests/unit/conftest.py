"""Unit tests import the collection as Ansible does: ansible_collections.baremetal.jupyterhub.

In an installed collection (.../ansible_collections/baremetal/jupyterhub/tests/unit), the
directory that holds ansible_collections goes on sys.path. In a checkout,
playbooks/collections/ansible_collections/baremetal/jupyterhub is a link to the repository
root, so playbooks/collections does.
"""

import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
if ROOT.parent.parent.name == "ansible_collections":
    sys.path.insert(0, str(ROOT.parents[2]))
else:
    sys.path.insert(0, str(ROOT / "playbooks" / "collections"))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
