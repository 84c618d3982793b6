#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: jupyter_kernelspec
short_description: Install or remove a Jupyter kernel spec
version_added: 0.1.0
description:
  - Writes a Jupyter kernel spec (a directory holding C(kernel.json) and, for Python kernels, ipykernel's logos)
    into one of the places Jupyter looks for kernels, or removes it.
  - With O(python), the result is what C(PYTHON -m ipykernel install --name NAME --display-name DISPLAY_NAME) writes,
    that is the same C(argv), ipykernel's own default C(metadata) and other keys (asked from that interpreter's
    ipykernel), and ipykernel's logo files.
  - Where the spec goes is one of O(prefix) (C(PREFIX/share/jupyter/kernels/NAME), like C(ipykernel install --prefix)),
    O(user) (that user's C(~/.local/share/jupyter/kernels/NAME), like C(ipykernel install --user) run by that user),
    or, when neither is given, system-wide in C(/usr/local/share/jupyter/kernels/NAME).
  - Idempotent on content. The existing C(kernel.json) is parsed and compared with the wanted spec, so key order
    and whitespace do not count; logos are compared by checksum. C(kernel.json) is replaced atomically
    (written as C(indent=1) JSON with sorted keys and a trailing newline). Other files in the kernel directory
    are left alone.
  - Every input is checked before anything is written.
author:
  - baremetal.jupyterhub maintainers (@baremetal)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: The diff shows C(kernel.json) as it is and as it will be. Logo changes are listed in RV(actions).
  platform:
    platforms: posix
options:
  name:
    description:
      - The kernel's name, which is also its directory name and what notebooks record as their kernel.
      - Only ASCII letters, digits, C(-), C(.) and C(_) are allowed (Jupyter's own rule); C(.) and C(..) are refused.
      - Like C(jupyter kernelspec install) and C(ipykernel install), the name is lower-cased
        (C(Python-GPU) is installed as C(python-gpu)); RV(name) returns the name used.
    type: str
    required: true
  state:
    description:
      - V(present) installs or updates the kernel spec, V(absent) removes its directory.
      - V(absent) only removes a directory that holds a C(kernel.json), and refuses anything else at that path.
    type: str
    choices: [present, absent]
    default: present
  display_name:
    description:
      - The name shown in JupyterLab's launcher and kernel menu.
      - Required when O(state=present).
    type: str
  language:
    description:
      - The kernel's language, as C(kernel.json) records it.
    type: str
    default: python
  python:
    description:
      - Absolute path of a Python interpreter that has C(ipykernel) installed, for example the C(bin/python) of a
        conda environment.
      - The kernel's C(argv) is the one C(PYTHON -m ipykernel install) writes, with the path as given (symlinks
        are not resolved), for example C([PYTHON, "-Xfrozen_modules=off", "-m", "ipykernel_launcher", "-f",
        "{connection_file}"]) with ipykernel 6.29 and later on CPython,
        C([PYTHON, "-m", "ipykernel_launcher", "-f", "{connection_file}"]) with older ones.
      - To learn that, the module runs the interpreter once, also in check mode. It imports ipykernel and lets
        ipykernel's own C(ipykernel.kernelspec.install) function stage the kernel directory in a temporary directory (removed again), from
        which it takes C(kernel.json) (C(argv), C(metadata), C(kernel_protocol_version), ...) and the logo files.
        A missing or non-executable interpreter, or one that cannot import ipykernel, is refused with its
        error output.
      - With O(user), the interpreter is run by that user (the module runs as them), as it will be when the
        kernel starts; root never runs what the user can change.
      - Exactly one of O(python) and O(argv) is required when O(state=present).
    type: path
  argv:
    description:
      - The command that starts the kernel, for kernels that are not ipykernel (R, Julia, a wrapper script, ...).
      - One of the items must contain C({connection_file}), which Jupyter replaces with the connection file's path.
      - Exactly one of O(python) and O(argv) is required when O(state=present).
    type: list
    elements: str
  env:
    description:
      - Environment variables set for the kernel process.
      - Values must be strings (numbers are converted to strings; booleans, lists and mappings are refused).
    type: dict
  metadata:
    description:
      - The C(metadata) mapping of C(kernel.json), for example C(debugger) set to V(true) to enable
        JupyterLab's debugger for the kernel.
      - When given, it is written as is (an empty mapping included). When not given with O(python), ipykernel's
        default metadata is written, as C(ipykernel install) writes it (C(debugger) V(true) for ipykernel 6 and
        later). When not given with O(argv), no metadata is written.
    type: dict
  interrupt_mode:
    description:
      - How Jupyter interrupts the kernel. Not written when not given (Jupyter's default is V(signal)).
    type: str
    choices: [signal, message]
  prefix:
    description:
      - Install under this prefix, in C(PREFIX/share/jupyter/kernels/NAME); for example the JupyterHub
        installation's own prefix C(/opt/jupyterhub), so only that installation sees the kernel.
      - Must be an absolute path. Missing directories are created with mode C(0755).
      - Mutually exclusive with O(user). When neither is given, the kernel is installed system-wide in
        C(/usr/local/share/jupyter/kernels/NAME).
      - Directories and files are owned by the user running the module (root, with become); the kernel
        directory gets mode C(0755) and the written files C(0644), whatever the umask.
    type: path
  user:
    description:
      - Install for this user only, in C(~USER/.local/share/jupyter/kernels/NAME). (C($XDG_DATA_HOME) is not
        consulted; it is an environment variable of the user's sessions that the module cannot know.)
      - The user must exist and have an existing home directory. Missing directories below the home are
        created, with mode C(0755); files get mode C(0644), whatever the umask.
      - The module must run as that user, with C(become) on and C(become_user) set to the user (see the
        example and the notes); it refuses to run as anyone else, root included, and never switches users
        itself. So what it runs and creates is the user's, and nothing in the home (a symbolic link, a hard
        link) can make a more privileged account read or write elsewhere.
      - A file of the kernel that someone else owns is replaced by one the user owns.
      - Mutually exclusive with O(prefix).
    type: str
notes:
  - For O(user), Ansible runs the module as the user. Connected as root, or with pipelining (C(pipelining = True)
    in C(ansible.cfg), which this collection's playbooks are tested with), nothing else is needed. Connected as
    another unprivileged account without pipelining, Ansible must make its temporary files readable for the
    user, so the host needs C(setfacl) (Debian's and Ubuntu's C(acl) package); see Ansible's
    "Risks of becoming an unprivileged user".
  - The module does not check that the kernel starts; for O(python) it checks that ipykernel can be imported.
  - Jupyter lists kernels by lower-cased directory name; a kernel with the same name earlier in Jupyter's
    search path (user, then the environment's prefix, then system-wide) hides this one.
seealso:
  - name: ipykernel install
    description: The command whose result this module reproduces.
    link: https://ipython.readthedocs.io/en/stable/install/kernel_install.html
  - name: Jupyter kernel specs
    description: The kernel.json format and where Jupyter looks for kernel specs.
    link: https://jupyter-client.readthedocs.io/en/stable/kernels.html#kernel-specs
"""

EXAMPLES = r"""
# The guide names this kernel "python", but jupyter_client starts the "python3" kernel
# for that name; "python3" also makes it the kernel of the many notebooks that ask for it.
- name: Shared environment's kernel, seen only by the JupyterHub installation in /opt/jupyterhub (the guide's option 1)
  baremetal.jupyterhub.jupyter_kernelspec:
    name: python3
    display_name: Python (default)
    python: /opt/conda/envs/python/bin/python
    prefix: /opt/jupyterhub

- name: The same kernel system-wide, in /usr/local/share/jupyter/kernels (the guide's option 2)
  baremetal.jupyterhub.jupyter_kernelspec:
    name: python3
    display_name: Python (default)
    python: /opt/conda/envs/python/bin/python

- name: A kernel for alice only, from her own conda environment (the module runs as alice)
  become: true
  become_user: alice
  baremetal.jupyterhub.jupyter_kernelspec:
    name: python-my-env
    display_name: Python My Env
    python: /home/alice/.conda/envs/my-env/bin/python
    user: alice
    env:
      OMP_NUM_THREADS: "4"

- name: An R kernel (not ipykernel), with its own argv
  baremetal.jupyterhub.jupyter_kernelspec:
    name: ir
    display_name: R
    language: R
    argv:
      - /opt/conda/envs/r/bin/R
      - --slave
      - -e
      - IRkernel::main()
      - --args
      - "{connection_file}"
    interrupt_mode: signal
    prefix: /opt/jupyterhub

- name: Debugger explicitly on, extra environment for the kernel
  baremetal.jupyterhub.jupyter_kernelspec:
    name: python-gpu
    display_name: Python (GPU)
    python: /opt/conda/envs/gpu/bin/python
    prefix: /opt/jupyterhub
    metadata:
      debugger: true
    env:
      CUDA_VISIBLE_DEVICES: "0"

- name: Remove the system-wide kernel
  baremetal.jupyterhub.jupyter_kernelspec:
    name: python3
    state: absent
"""

RETURN = r"""
name:
  description: The kernel's name as installed (lower-cased).
  returned: always
  type: str
  sample: python
path:
  description: The kernel directory.
  returned: always
  type: str
  sample: /opt/jupyterhub/share/jupyter/kernels/python
spec:
  description:
    - With O(state=present), the kernel.json content written, or that would be written in check mode.
    - With O(state=absent), the content of the kernel.json removed (empty when there was none).
  returned: always
  type: dict
  sample:
    argv: [/opt/conda/envs/python/bin/python, -Xfrozen_modules=off, -m, ipykernel_launcher, -f, "{connection_file}"]
    display_name: Python (default)
    kernel_protocol_version: "5.5"
    language: python
    metadata: {debugger: true, supported_encryption: [curve]}
actions:
  description: What was done (or, in check mode, would be done), one line each.
  returned: always
  type: list
  elements: str
  sample:
    - created directory /opt/jupyterhub/share/jupyter/kernels/python
    - wrote /opt/jupyterhub/share/jupyter/kernels/python/kernel.json
    - copied logo-32x32.png
msg:
  description: A one-line summary.
  returned: always
  type: str
  sample: kernel python installed in /opt/jupyterhub/share/jupyter/kernels/python
"""

import base64
import hashlib
import json
import os
import pwd
import shutil
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native, to_text
from ansible_collections.baremetal.jupyterhub.plugins.module_utils.rules import is_kernel_name

SYSTEM_KERNELS_DIR = "/usr/local/share/jupyter/kernels"
USER_KERNELS_SUBDIRS = (".local", "share", "jupyter", "kernels")
LOGOS = ("logo-32x32.png", "logo-64x64.png", "logo-svg.svg")
DIR_MODE = 0o755
FILE_MODE = 0o644
NAME_RULE = "Kernel names can only contain ASCII letters, digits and these separators: - . _ (hyphen, period, underscore)"
# The keys the module's options set; other keys of what ipykernel install writes are taken as they are.
OPTION_KEYS = ("argv", "display_name", "language", "env", "metadata", "interrupt_mode")

# Run by the kernel's interpreter (any Python from 2.7 on). It proves that ipykernel imports and reports what
# `python -m ipykernel install` would write: ipykernel's own install() stages the kernel directory in a temporary
# directory and hands it to a kernel spec manager, here one that only reads kernel.json and the logos back.
# (The argv is not just make_ipkernel_cmd(): since ipykernel 6.29 (ipython/ipykernel#1213) install() adds
# -Xfrozen_modules=off on CPython, and its metadata and kernel_protocol_version vary with the version.)
PROBE = r"""
import base64, json, os, sys
import ipykernel
d = os.path.dirname(os.path.abspath(ipykernel.__file__))
r = {"path": d, "version": getattr(ipykernel, "__version__", None), "logos": {}, "kernel": None}
def logos(src):
    for n in %s:
        p = os.path.join(src, n)
        if os.path.isfile(p):
            with open(p, "rb") as f:
                r["logos"][n] = base64.b64encode(f.read()).decode("ascii")
class Capture(object):
    staged = None
    def install_kernel_spec(self, source_dir, *args, **kwargs):
        self.staged = source_dir
        with open(os.path.join(source_dir, "kernel.json")) as f:
            r["kernel"] = json.load(f)
        logos(source_dir)
        return source_dir
c = Capture()
try:
    from ipykernel.kernelspec import install
    install(kernel_spec_manager=c, display_name="probe")
except Exception as e:
    r["kernel"] = None
    r["kernel_error"] = "%%s: %%s" %% (type(e).__name__, e)
    logos(os.path.join(d, "resources"))
if c.staged:
    try:  # install() removed what it staged, not the mkdtemp() directory around it
        os.rmdir(os.path.dirname(c.staged))
    except OSError:
        pass
sys.stdout.write("\n" + json.dumps(r) + "\n")
""".strip() % (repr(LOGOS),)


def _euid():
    return os.geteuid()


def json_equal(a, b):
    """Equality of parsed JSON values that, unlike ==, keeps true apart from 1 and false from 0."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return set(a) == set(b) and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, (dict, list)) or isinstance(b, (dict, list)):
        return False
    return a == b


def dump_spec(spec):
    """kernel.json text as jupyter writes it (indent=1), with sorted keys and a trailing newline."""
    return json.dumps(spec, indent=1, sort_keys=True) + "\n"


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(65536), b""):
            digest.update(block)
    return digest.hexdigest()


class Location(object):
    """Where the kernel directory is and, for a user's kernel, whose it is."""

    def __init__(self, kdir, user=None, uid=None):
        self.kdir = kdir
        self.user = user
        self.uid = uid


class KernelSpecModule(object):

    def __init__(self, module):
        self.module = module
        self.p = module.params
        self.check_mode = module.check_mode
        self.actions = []
        self.name = None
        self.loc = None

    def fail(self, msg, **kwargs):
        kwargs.setdefault("name", self.name or self.p["name"])
        if self.loc is not None:
            kwargs.setdefault("path", self.loc.kdir)
        self.module.fail_json(msg=msg, **kwargs)

    # ---- input checks: all of them pass before anything is written ----

    def check_name(self):
        name = self.p["name"]
        if not is_kernel_name(name):
            self.fail("invalid kernel name %r: %s; '.' and '..' are not names." % (name, NAME_RULE))
        # jupyter_client's KernelSpecManager.install_kernel_spec() lower-cases the name.
        self.name = name.lower()
        # jupyter_client's KernelManager starts the "python3" kernel when asked for
        # "python": a spec under that name would never run. Removing one is fine.
        if self.name == "python" and self.p["state"] == "present":
            self.fail("kernel name 'python' cannot be used: jupyter_client starts the 'python3' kernel for it, "
                      "so this spec would never run; name it 'python3' (to be the default Python kernel) or "
                      "anything else")

    def resolve_location(self):
        prefix, user = self.p["prefix"], self.p["user"]
        if prefix is not None:
            if not os.path.isabs(prefix):
                self.fail("prefix must be an absolute path, got %r" % prefix)
            self.loc = Location(os.path.join(os.path.normpath(prefix), "share", "jupyter", "kernels", self.name))
        elif user is not None:
            try:
                pw = pwd.getpwnam(user)
            except KeyError:
                self.fail("user %r does not exist on this host (no passwd entry); "
                          "create the user first, or give prefix for a shared kernel" % user)
            euid = _euid()
            if euid != pw.pw_uid:
                self.fail("a kernel for user %s is written by the module running as %s (become: true, become_user: %s), "
                          "so that what it runs and writes is %s's; it runs as uid %d and does not switch users itself"
                          % (user, user, user, user, euid))
            home = os.path.normpath(pw.pw_dir)
            kdir = os.path.join(home, *(USER_KERNELS_SUBDIRS + (self.name,)))
            self.loc = Location(kdir, user, pw.pw_uid)
            if self.p["state"] == "present" and not os.path.isdir(home):
                self.fail("home directory %s of user %s does not exist" % (home, user))
        else:
            self.loc = Location(os.path.join(SYSTEM_KERNELS_DIR, self.name))

    def check_argv(self):
        argv = self.p["argv"]
        if not argv:
            self.fail("argv must not be empty")
        if not any("{connection_file}" in a for a in argv):
            self.fail("argv must contain {connection_file} (Jupyter replaces it with the connection file's path), "
                      "got %r" % (argv,))
        return list(argv)

    def check_env(self):
        env = self.p["env"]
        if env is None:
            return None
        out = {}
        for key, value in env.items():
            if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                self.fail("env %s must be a string, got %s %r (quote it)" % (key, type(value).__name__, value))
            out[to_text(key)] = to_text(value)
        return out

    def probe_python(self):
        """Run the interpreter: what does ipykernel install write?"""
        python = self.p["python"]
        if not os.path.isabs(python):
            self.fail("python must be an absolute path, got %r" % python)
        if not os.path.exists(python):
            self.fail("python interpreter %s does not exist" % python)
        if not os.path.isfile(python) or not os.access(python, os.X_OK):
            self.fail("python interpreter %s is not an executable file" % python)
        cmd = [python, "-c", PROBE]
        environ = {"LC_ALL": "C"}
        rc, out, err = self.module.run_command(cmd, environ_update=environ, cwd="/")
        if rc != 0:
            self.fail("%s cannot import ipykernel (rc=%d): %s" % (python, rc, err.strip() or out.strip()),
                      rc=rc, stdout=out, stderr=err, cmd=cmd)
        lines = [line for line in out.splitlines() if line.strip()]
        try:
            info = json.loads(lines[-1])
            logos = dict((k, base64.b64decode(v)) for k, v in info["logos"].items() if k in LOGOS)
        except (IndexError, ValueError, KeyError, TypeError, AttributeError) as e:
            self.fail("unexpected output from %s checking ipykernel: %s" % (python, to_native(e)),
                      rc=rc, stdout=out, stderr=err, cmd=cmd)
        kernel = info.get("kernel")
        argv = kernel.get("argv") if isinstance(kernel, dict) else None
        if not (isinstance(argv, list) and argv and all(isinstance(a, str) for a in argv)
                and any("{connection_file}" in a for a in argv)):
            self.module.warn("could not learn from %s what `ipykernel install` writes (%s); writing the "
                             "plain ipykernel_launcher argv" % (python, info.get("kernel_error", "no usable kernel.json")))
            kernel = {"argv": [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"]}
        if not logos:
            self.module.warn("ipykernel in %s has no logo files; the kernel will have none" % info.get("path"))
        return kernel, logos

    def build_spec(self):
        """The wanted kernel.json dict, and the logos (name -> bytes) to copy."""
        p = self.p
        env = self.check_env()
        logos = {}
        if p["python"] is not None:
            ipk, logos = self.probe_python()
            # What ipykernel install wrote (argv options, metadata, kernel_protocol_version, ...), but for the
            # keys the options set; argv[0] (ipykernel's sys.executable) is the interpreter's path as given.
            spec = dict((k, v) for k, v in ipk.items() if k not in OPTION_KEYS)
            if p["metadata"] is None and isinstance(ipk.get("metadata"), dict):
                spec["metadata"] = ipk["metadata"]
            spec["argv"] = [p["python"]] + ipk["argv"][1:]
        else:
            spec = {"argv": self.check_argv()}
        spec["display_name"] = p["display_name"]
        spec["language"] = p["language"]
        if p["metadata"] is not None:
            spec["metadata"] = p["metadata"]
        if env is not None:
            spec["env"] = env
        if p["interrupt_mode"] is not None:
            spec["interrupt_mode"] = p["interrupt_mode"]
        # Compare what JSON keeps.
        return json.loads(dump_spec(spec)), logos

    # ---- the filesystem ----

    def note(self, action):
        self.actions.append(action)

    def dirs_to_create(self):
        """Missing directories from the first existing ancestor down to the kernel dir, top first."""
        missing = []
        path = self.loc.kdir
        while not os.path.lexists(path):
            missing.append(path)
            parent = os.path.dirname(path)
            if parent == path:
                break
            path = parent
        if not os.path.isdir(path):
            self.fail("%s exists and is not a directory" % path)
        return list(reversed(missing))

    def read_kernel_json(self):
        """(text, parsed) of the existing kernel.json; ("", None) when missing, (text, None) when not JSON."""
        path = os.path.join(self.loc.kdir, "kernel.json")
        if not os.path.lexists(path):
            return "", None
        if not os.path.isfile(path):
            self.fail("%s is not a regular file" % path)
        try:
            with open(path, "rb") as f:
                data = f.read()
        except (IOError, OSError) as e:
            self.fail("cannot read %s: %s%s" % (path, to_native(e), self.hint()))
        try:
            parsed = json.loads(to_text(data, errors="surrogate_or_strict"))
        except (ValueError, UnicodeError):
            parsed = None
        return to_text(data, errors="surrogate_or_replace"), parsed

    def make_dir(self, path):
        self.note("created directory %s" % path)
        if self.check_mode:
            return
        try:
            os.mkdir(path)
            os.chmod(path, DIR_MODE)
        except OSError as e:
            self.fail("cannot create directory %s: %s%s" % (path, to_native(e), self.hint()))

    def write_file(self, path, data):
        """Write data to path atomically: a temp file in the same directory, then module.atomic_move()."""
        if self.check_mode:
            return
        tmp = None
        try:
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".%s." % os.path.basename(path),
                                       suffix=".tmp")
            try:
                os.write(fd, data)
            finally:
                os.close(fd)
            os.chmod(tmp, FILE_MODE)
            self.module.atomic_move(tmp, path)
            # atomic_move() gives a new file the umask's mode, a replaced one the old file's mode.
            os.chmod(path, FILE_MODE)
        except (IOError, OSError) as e:
            self.fail("cannot write %s: %s%s" % (path, to_native(e), self.hint()))
        finally:
            if tmp is not None and os.path.lexists(tmp):
                os.unlink(tmp)

    def hint(self):
        if self.loc.user is None:
            return ""
        return " (as user %s)" % self.loc.user

    def wrong_owner(self, st):
        """A user's file that someone else owns: replace it (renaming over it makes the user its owner)."""
        return self.loc.uid is not None and st.st_uid != self.loc.uid

    def fix_mode(self, path, mode):
        st = os.stat(path)
        if st.st_mode & 0o7777 != mode:
            self.note("set mode %04o on %s" % (mode, path))
            if not self.check_mode:
                try:
                    os.chmod(path, mode)
                except OSError as e:
                    self.fail("cannot set the mode of %s: %s%s" % (path, to_native(e), self.hint()))

    # ---- the two states ----

    def present(self):
        spec, logos = self.build_spec()
        kdir = self.loc.kdir
        kjson = os.path.join(kdir, "kernel.json")
        missing = self.dirs_to_create()
        before, current = ("", None) if missing else self.read_kernel_json()
        for fname in logos:
            path = os.path.join(kdir, fname)
            if os.path.lexists(path) and not os.path.isfile(path):
                self.fail("%s is not a regular file" % path)

        for path in missing:
            self.make_dir(path)
        if not missing:
            self.fix_mode(kdir, DIR_MODE)

        after = before
        if current is None or not json_equal(current, spec):
            after = dump_spec(spec)
            self.note("wrote %s" % kjson)
            self.write_file(kjson, after.encode("utf-8"))
        elif self.wrong_owner(os.lstat(kjson)):
            self.note("replaced %s, owned by uid %d" % (kjson, os.lstat(kjson).st_uid))
            self.write_file(kjson, after.encode("utf-8"))
        else:
            self.fix_mode(kjson, FILE_MODE)

        for fname in sorted(logos):
            path = os.path.join(kdir, fname)
            data = logos[fname]
            if not os.path.isfile(path) or sha256_file(path) != hashlib.sha256(data).hexdigest():
                self.note("copied %s" % fname)
                self.write_file(path, data)
            elif self.wrong_owner(os.lstat(path)):
                self.note("replaced %s, owned by uid %d" % (path, os.lstat(path).st_uid))
                self.write_file(path, data)
            else:
                self.fix_mode(path, FILE_MODE)

        changed = bool(self.actions)
        if not changed:
            msg = "kernel %s in %s is up to date" % (self.name, kdir)
        else:
            msg = "kernel %s %s%s in %s" % (self.name, "would be " if self.check_mode else "",
                                            "installed" if current is None and not before else "updated", kdir)
        return changed, spec, before, after, msg

    def absent(self):
        kdir = self.loc.kdir
        if not os.path.lexists(kdir):
            return False, {}, "", "", "kernel %s is not installed in %s" % (self.name, kdir)
        if os.path.islink(kdir):
            self.fail("refusing to remove %s: it is a symbolic link, not a kernel directory" % kdir)
        if not os.path.isdir(kdir):
            self.fail("refusing to remove %s: it is not a directory" % kdir)
        if not os.path.isfile(os.path.join(kdir, "kernel.json")):
            self.fail("refusing to remove %s: it is not a kernel directory (it has no kernel.json)" % kdir)
        before, current = self.read_kernel_json()
        self.note("removed directory %s" % kdir)
        if not self.check_mode:
            try:
                shutil.rmtree(kdir)
            except OSError as e:
                self.fail("cannot remove %s: %s%s" % (kdir, to_native(e), self.hint()))
        msg = "kernel %s %s from %s" % (self.name, "would be removed" if self.check_mode else "removed", kdir)
        return True, current if isinstance(current, dict) else {}, before, "", msg

    def run(self):
        self.check_name()
        self.resolve_location()
        if self.p["state"] == "present":
            changed, spec, before, after, msg = self.present()
        else:
            changed, spec, before, after, msg = self.absent()
        result = dict(changed=changed, name=self.name, path=self.loc.kdir, spec=spec, actions=self.actions, msg=msg)
        if self.module._diff:
            kjson = os.path.join(self.loc.kdir, "kernel.json")
            result["diff"] = dict(before=before, after=after, before_header=kjson, after_header=kjson)
        self.module.exit_json(**result)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            display_name=dict(type="str"),
            language=dict(type="str", default="python"),
            python=dict(type="path"),
            argv=dict(type="list", elements="str"),
            env=dict(type="dict"),
            metadata=dict(type="dict"),
            interrupt_mode=dict(type="str", choices=["signal", "message"]),
            prefix=dict(type="path"),
            user=dict(type="str"),
        ),
        mutually_exclusive=[("python", "argv"), ("prefix", "user")],
        required_if=[
            ("state", "present", ("display_name",)),
            ("state", "present", ("python", "argv"), True),
        ],
        supports_check_mode=True,
    )
    KernelSpecModule(module).run()


if __name__ == "__main__":
    main()
