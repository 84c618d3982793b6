"""Unit tests import the collection as Ansible does: ansible_collections.baremetal.jupyterhub.

playbooks/collections/ansible_collections/baremetal/jupyterhub is a link to the repository
root, so putting playbooks/collections on sys.path makes the working tree importable.
"""

import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "playbooks" / "collections"))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
