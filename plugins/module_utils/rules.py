# Copyright: baremetal.jupyterhub maintainers
# BSD-3-Clause (see galaxy.yml)
"""The rules that several roles, playbooks and modules check, each written once.

The collection's test plugins (``baremetal.jupyterhub.base_url``, ``.port``,
``.account_name``, ``.kernel_name``) and its modules call these functions.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

# "/" or "/a/b/": starts and ends with "/", path segments of URL-safe characters.
BASE_URL = re.compile(r"\A/([A-Za-z0-9._~-]+/)*\Z")
# A system user or group name as Debian's adduser accepts it, lower case (JupyterHub
# lower-cases names at login, so upper case could never log in).
ACCOUNT_NAME = re.compile(r"\A[a-z_][a-z0-9_.-]{0,31}\Z")
# A kernel spec's directory name, as jupyter_client accepts it: its _kernel_name_pat is
# r"^[a-z0-9._\-]+$" with re.IGNORECASE, spelled out here because IGNORECASE would also let
# the Kelvin sign and the long s through.
KERNEL_NAME = re.compile(r"\A[A-Za-z0-9._-]+\Z")


def is_base_url(value):
    """A URL path prefix: "/" or "/jupyter/"."""
    return isinstance(value, str) and BASE_URL.match(value) is not None


def is_port(value):
    """A TCP port number, 1 to 65535, as an int or a string of digits (not a bool)."""
    return is_positive_int(value) and int(value) <= 65535


def is_positive_int(value):
    """A whole number, 1 or more, as an int or a string of digits (not a bool): a count or a
    number of seconds."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value >= 1
    if isinstance(value, str) and value.isdigit() and value.isascii():
        return int(value) >= 1
    return False


def is_account_name(value):
    """A user or group name that can log in to JupyterHub through PAM."""
    return isinstance(value, str) and ACCOUNT_NAME.match(value) is not None


def is_kernel_name(value):
    """A kernel name: ASCII letters, digits, '-', '.' and '_'; not '.' or '..'."""
    return isinstance(value, str) and KERNEL_NAME.match(value) is not None and value not in (".", "..")
