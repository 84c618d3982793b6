#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: conda_env
short_description: Create, update or remove a conda environment
version_added: 0.1.0
description:
  - Manages a conda environment, given by O(prefix) or O(name), with conda, mamba or micromamba.
  - The packages wanted are conda match specs (O(packages)) or an C(environment.yml) file on the
    managed host (O(file)).
  - Idempotent without asking the solver. Whether the specs are already satisfied is decided by conda itself
    where the managed host has conda's Python (the C(python) next to the executable, C(PREFIX/bin/python) for
    C(PREFIX/bin/conda) or C(PREFIX/condabin/conda), that can C(import conda)), which is the case for every conda
    installation, mamba 1 included. The module runs a small program with it that matches
    C(conda.models.match_spec.MatchSpec) against the records conda reads from the environment's C(conda-meta).
  - All specs of one package name are decided together, as conda's solver reads them (C([pkg<1.20, pkg!=1.2.11])
    needs one installed version that meets both). When a name is not satisfied, all its specs are passed to
    C(install) together, so the solver sees the same constraints every run; names that are satisfied are not
    passed; nothing runs when all are satisfied.
  - Where the host has no conda Python (micromamba or mamba 2 alone), an in-module port of conda's version ordering
    and match-spec rules decides the same way (all specs of one name against the same record).
  - An existing environment (a prefix with C(conda-meta/history)) is changed with C(install), C(update) and
    C(remove), never with C(create), which deletes an existing prefix before creating it again.
  - Every command runs with C(--json --quiet) and, where the command accepts it, C(--yes); the module never
    prompts. Commands run with C(LC_ALL=C) and C(LANG=C).
  - Check mode asks the solver with C(--dry-run --json) and reports the packages that would be linked and
    unlinked; nothing is changed.
author:
  - baremetal.jupyterhub maintainers (@baremetal)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details:
      - Uses the tool's C(--dry-run --json). C(env update) has no dry run, so with O(file) on an existing
        environment that needs a change, all the file's conda dependencies (the ones C(env update) passes to the
        solver) are passed to C(install --dry-run) with the file's channels instead, and the pip dependencies that
        are not satisfied are reported in RV(actions.PIP).
      - When the environment does not exist and the dry run of its creation fails, the result is
        C(changed=true) with a warning that carries the tool's message.
  diff_mode:
    support: full
    details:
      - The diff lists the installed packages before and after, one C(name==version=build) line each.
      - With an O(file) that has pip dependencies, the pip-installed packages too, as C(name==version (pip)); in
        check mode the pip specs that would be installed replace the packages they name.
  platform:
    platforms: posix
options:
  prefix:
    description:
      - Absolute path of the environment, for example C(/opt/conda/envs/python).
      - Exactly one of O(prefix) and O(name) is required.
    type: path
  name:
    description:
      - Name of an environment in the tool's environment directories.
      - The directories are those that C(<executable> info --json) reports (C(envs_dirs)); the environment is the
        first C(DIR/NAME) that is an environment, or C(FIRST_DIR/NAME) when it does not exist yet.
        V(base) is the tool's root prefix.
      - Exactly one of O(prefix) and O(name) is required.
    type: str
  state:
    description:
      - V(present) creates the environment when it is missing and installs the specs that are not satisfied.
      - V(latest) also asks the solver to update the given packages to the newest versions that the specs and
        channels allow (C(conda install SPECS), whose default C(update_specs) behaviour updates requested
        packages; C(mamba update SPECS) with mamba and micromamba). The result is C(changed) only when
        packages were linked or unlinked.
      - V(absent) with O(packages) removes those of them that are installed (a spec counts as installed when an
        installed package matches it); without O(packages) it removes the whole environment, and does nothing
        when it does not exist.
    type: str
    choices: [present, absent, latest]
    default: present
  packages:
    description:
      - conda match specs, for example C(python=3.12), C(numpy>=1.26,<2), C(conda-forge::ipykernel),
        C(scipy=1.13=*openblas*).
      - Package files and URLs are not supported.
      - Mutually exclusive with O(file).
    type: list
    elements: str
    default: []
  channels:
    description:
      - Channels to install from, in order of priority; each is passed as C(-c CHANNEL).
      - Not used with O(file), whose own C(channels) apply.
    type: list
    elements: str
    default: []
  override_channels:
    description:
      - With O(channels), also pass C(--override-channels), so only the given channels are used (otherwise conda
        adds the configured ones, and older conda versions add C(defaults)).
    type: bool
    default: true
  file:
    description:
      - Path of an C(environment.yml) file on the managed host.
      - A missing environment is created with C(env create --file); an existing one is compared with the file's
        conda dependencies and updated with C(env update --file) only when one is not satisfied.
      - The file's C(name) and C(prefix) are ignored; the environment is the one given by O(prefix) or O(name).
      - The file's C(pip) dependencies are compared with the pip-installed packages that C(list --json) reports,
        with conda's Python by C(packaging)'s requirement rules (URLs, options and markers count as not satisfied),
        without it only C(NAME) and C(NAME==VERSION) are compared and other forms count as not satisfied (a warning
        says so). One that is not satisfied makes the module run C(env update), and the result is C(changed)
        when conda linked or unlinked packages or pip changed a package.
      - Used with O(state=present) or O(state=latest) (then C(env update) always runs and the solver decides).
      - Mutually exclusive with O(packages).
    type: path
  executable:
    description:
      - The conda, mamba or micromamba executable, as a path or a name on C(PATH).
      - When not given, C(/opt/conda/bin/conda), then C(/opt/conda/bin/mamba), then C(conda), C(mamba) and
        C(micromamba) on C(PATH).
    type: str
  extra_args:
    description:
      - Arguments appended to the C(create), C(install), C(update), C(remove), C(env create) and C(env update)
        commands, for example V([--strict-channel-priority]).
    type: list
    elements: str
    default: []
notes:
  - Without conda's Python on the host, a spec that the in-module port cannot check offline (for example one with
    C([md5=...])) counts as not satisfied and is passed to the solver.
  - O(packages) are also parsed by the in-module port before anything runs, so that a malformed spec fails before
    any change; conda's own parser then has the last word.
  - Parsing O(file) uses PyYAML when the managed host has it, and otherwise a reader for the usual
    C(environment.yml) layout (C(name), C(channels), C(dependencies) with an optional C(pip) list).
seealso:
  - name: Package match specifications
    description: conda's documentation of the spec syntax used by O(packages).
    link: https://docs.conda.io/projects/conda/en/latest/user-guide/concepts/pkg-specs.html
  - name: Managing environments
    description: conda's guide to environments and C(environment.yml) files.
    link: https://docs.conda.io/projects/conda/en/latest/user-guide/tasks/manage-environments.html
"""

EXAMPLES = r"""
- name: Shared environment for the hub's users, from conda-forge only
  baremetal.jupyterhub.conda_env:
    prefix: /opt/conda/envs/python
    packages:
      - python=3.12
      - ipykernel
      - numpy>=1.26,<3
    channels: [conda-forge]

- name: An environment by name, from an environment file copied to the host
  baremetal.jupyterhub.conda_env:
    name: analysis
    file: /opt/jupyterhub/etc/environments/analysis.yml

- name: Keep pandas at the newest version the channels offer
  baremetal.jupyterhub.conda_env:
    prefix: /opt/conda/envs/python
    packages: [pandas]
    channels: [conda-forge]
    state: latest

- name: Remove a package from the environment
  baremetal.jupyterhub.conda_env:
    prefix: /opt/conda/envs/python
    packages: [scipy]
    state: absent

- name: Remove a whole environment, with micromamba
  baremetal.jupyterhub.conda_env:
    name: old-course
    state: absent
    executable: /usr/local/bin/micromamba
"""

RETURN = r"""
prefix:
  description: The environment's prefix.
  returned: always
  type: str
  sample: /opt/conda/envs/python
executable:
  description: The executable used.
  returned: always
  type: str
  sample: /opt/conda/bin/conda
cmd:
  description:
    - The commands run, in order, each as a list of arguments. On failure, the failing command.
    - Asking conda's Python shows as C([PYTHON, -I, -c, PROGRAM]); the request goes to its standard input.
  returned: always
  type: list
  elements: list
  sample:
    - [/opt/conda/bin/conda, list, --prefix, /opt/conda/envs/python, --json]
    - [/opt/conda/bin/conda, install, --prefix, /opt/conda/envs/python, --yes, --json, --quiet,
       --override-channels, -c, conda-forge, numpy>=1.26]
actions:
  description: Packages linked and unlinked (or, in check mode, that would be), as C(name==version=build).
  returned: always
  type: dict
  contains:
    LINK:
      description: Packages installed.
      type: list
      elements: str
    UNLINK:
      description: Packages removed.
      type: list
      elements: str
    PIP:
      description:
        - With O(file), what pip installed as conda reports it (C(name-version)), or in check mode the pip
          dependencies of the file that are not satisfied.
      type: list
      elements: str
  sample:
    LINK: [numpy==2.1.3=py312h58c1407_0]
    UNLINK: [numpy==1.26.4=py312heda63a1_0]
    PIP: []
installed:
  description:
    - The conda packages in the environment afterwards (in check mode, as they would be), without pip-installed ones.
  returned: always
  type: list
  elements: dict
  sample:
    - {name: numpy, version: 2.1.3, build: py312h58c1407_0, channel: conda-forge}
msg:
  description: A one-line summary.
  returned: always
  type: str
  sample: installed 1 and removed 1 package(s) in /opt/conda/envs/python
rc:
  description: The failing command's exit status.
  returned: failure
  type: int
stdout:
  description: The failing command's standard output.
  returned: failure
  type: str
stderr:
  description: The failing command's standard error.
  returned: failure
  type: str
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.baremetal.jupyterhub.plugins.module_utils.conda import (
    CondaError,
    CondaRunner,
    apply_transaction,
    find_executable,
    is_environment,
    pip_lines,
    pip_name,
    pip_satisfied,
    simple_pip,
    public_record,
    record_line,
    transaction,
    parse_dependency_string,
)
from ansible_collections.baremetal.jupyterhub.plugins.module_utils.conda_matchspec import (
    InvalidMatchSpec,
    MatchSpec,
)

try:
    import yaml
    HAS_YAML = True
except ImportError:
    HAS_YAML = False


class EnvFileError(Exception):
    pass


# -- environment.yml ---------------------------------------------------------------------------
def _scalar(text):
    text = text.split(" #", 1)[0].strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def _value(text):
    """A scalar, or a flow list like [conda-forge, defaults]."""
    text = text.split(" #", 1)[0].strip()
    if text.startswith("[") and text.endswith("]"):
        return [_scalar(item) for item in text[1:-1].split(",") if item.strip()]
    return _scalar(text)


def _read_simple_yaml(text):
    """The usual environment.yml layout, for hosts without PyYAML: top-level keys, lists of
    strings, and a ``- pip:`` item with its own list."""
    data, key, pip_indent, pip_list = {}, None, None, None
    for raw in text.splitlines():
        line = raw.rstrip()
        if not line.strip() or line.lstrip().startswith("#") or line.strip() == "---":
            continue
        indent = len(line) - len(line.lstrip())
        stripped = line.strip()
        if indent == 0 and not stripped.startswith("-"):
            key, _sep, value = stripped.partition(":")
            if not _sep:
                raise EnvFileError("cannot read line %r" % raw)
            data[key.strip()] = _value(value) if value.strip() else []
            pip_indent = None
            continue
        if not stripped.startswith("-") or key is None or not isinstance(data.get(key), list):
            raise EnvFileError("cannot read line %r" % raw)
        item = _scalar(stripped[1:])
        if pip_indent is not None and indent > pip_indent:
            pip_list.append(item)
            continue
        pip_indent = None
        if item.rstrip(":").strip() == "pip" and item.endswith(":"):
            pip_indent, pip_list = indent, []
            data[key].append({"pip": pip_list})
        else:
            data[key].append(item)
    return data


def read_env_file(path):
    """{'channels': [...], 'conda': [specs], 'pip': [specs]} from an environment.yml."""
    try:
        with open(path) as handle:
            text = handle.read()
    except (IOError, OSError) as exc:
        raise EnvFileError("cannot read %s: %s" % (path, to_native(exc)))
    try:
        data = yaml.safe_load(text) if HAS_YAML else _read_simple_yaml(text)
    except Exception as exc:  # EnvFileError, yaml.YAMLError
        raise EnvFileError("%s is not a valid environment file: %s" % (path, to_native(exc)))
    if not isinstance(data, dict) or not isinstance(data.get("dependencies", []), list):
        raise EnvFileError("%s is not a valid environment file: expected a mapping with a "
                           "'dependencies' list" % path)
    conda, pip = [], []
    for dep in data.get("dependencies") or []:
        if isinstance(dep, dict) and isinstance(dep.get("pip"), list):
            pip.extend(str(item) for item in dep["pip"])
        elif isinstance(dep, (str, int, float)):
            conda.append(str(dep))
        else:
            raise EnvFileError("%s is not a valid environment file: unexpected dependency %r" % (path, dep))
    channels = [str(c) for c in data.get("channels") or []]
    return {"channels": channels, "conda": conda, "pip": pip}


# -- the module --------------------------------------------------------------------------------
class Outcome(object):
    """What a state handler did (or would do)."""

    def __init__(self, changed, msg, actions=None, after=None, after_pip=None):
        self.changed = changed
        self.msg = msg
        self.actions = actions or {"LINK": [], "UNLINK": [], "PIP": []}
        self.actions.setdefault("PIP", [])
        self.after = after
        self.after_pip = after_pip


class CondaEnv(object):
    def __init__(self, module, runner):
        self.module = module
        self.runner = runner
        self.params = module.params
        self.check = module.check_mode
        self.prefix = None
        self.exists = False
        self.before = []
        self.before_pip = {}
        self.after_pip = None
        self.manage_pip = False

    # -- reading the current state ------------------------------------------------------------
    def resolve_prefix(self):
        if self.params["prefix"]:
            return os.path.abspath(self.params["prefix"])
        name = self.params["name"]
        info = self.runner.info()
        if name in ("base", "root"):
            root = self.runner.root_prefix(info)
            if not root:
                self.module.fail_json(msg="%s info --json did not report the root prefix" % self.runner.executable)
            return root
        dirs = self.runner.envs_dirs(info)
        if not dirs:
            self.module.fail_json(msg="%s info --json reported no envs_dirs to find environment %s in"
                                  % (self.runner.executable, name))
        for envs_dir in dirs:
            if is_environment(os.path.join(envs_dir, name)):
                return os.path.join(envs_dir, name)
        return os.path.join(dirs[0], name)

    def read_state(self):
        self.prefix = self.resolve_prefix()
        self.exists = is_environment(self.prefix)
        if self.exists:
            self.before, self.before_pip = self.runner.list_records(self.prefix)

    # -- command lines -----------------------------------------------------------------------
    def channel_args(self, channels):
        args = []
        if channels and self.params["override_channels"]:
            args.append("--override-channels")
        for channel in channels:
            args.extend(["-c", channel])
        return args

    def solver_cmd(self, subcommand, specs, channels=None, dry_run=False):
        args = [subcommand, "--prefix", self.prefix, "--yes", "--json", "--quiet"]
        if dry_run:
            args.append("--dry-run")
        args += self.channel_args(self.params["channels"] if channels is None else channels)
        return args + list(specs) + self.params["extra_args"]

    def run_transaction(self, args):
        return transaction(self.runner.run(*args))

    def installed_after(self, actions):
        if self.check:
            return apply_transaction(self.before, actions)
        after, self.after_pip = self.runner.list_records(self.prefix)
        return after

    @staticmethod
    def changed_by(actions):
        return bool(actions["LINK"] or actions["UNLINK"])

    def unsatisfied(self, specs):
        """The specs of every package name that some spec of that name is not satisfied for, with
        the in-module port of conda's rules: all specs of one name must match the same record."""
        groups = {}
        for spec in specs:
            groups.setdefault(spec.name, []).append(spec)
        unmet = set(name for name, group in groups.items()
                    if not any(all(spec.match(rec) for spec in group) for rec in self.before))
        return [spec for spec in specs if spec.name in unmet]

    def unmet(self, specs, pip_specs=()):
        """(conda specs to pass on, pip specs not satisfied). conda's Python decides where the host has
        it: the specs of a name go to the solver together when that name is not satisfied."""
        if not specs and not pip_specs:
            return [], []
        answer = self.runner.ask_conda(self.prefix, [spec.spec for spec in specs], pip_specs, self.before_pip)
        if answer is None:
            hard = [text for text in pip_specs if not simple_pip(text)]
            if hard:
                self.module.warn("without conda's Python on the host, pip specs other than NAME and NAME==VERSION "
                                 "(%s) count as not satisfied; the environment is updated and pip decides"
                                 % ", ".join(hard))
            return ([spec.spec for spec in self.unsatisfied(specs)],
                    [text for text in pip_specs if not pip_satisfied(text, self.before_pip)])
        if answer.get("invalid"):
            self.module.fail_json(msg="conda rejects a spec: %s" % answer["invalid"], prefix=self.prefix)
        names = set(item["name"] for item in answer["specs"] if not item["satisfied"])
        return ([item["spec"] for item in answer["specs"] if item["name"] in names],
                [item["spec"] for item in answer.get("pip") or [] if not item["satisfied"]])

    def refuse_foreign_directory(self):
        """create would turn (or, with --yes, wipe) a non-empty directory that is no environment."""
        if os.path.isdir(self.prefix) and os.listdir(self.prefix):
            self.module.fail_json(
                msg="%s exists and is not a conda environment (no conda-meta/history); refusing to create "
                    "an environment over it" % self.prefix, prefix=self.prefix)

    # -- creating ------------------------------------------------------------------------------
    def create(self, args, what):
        self.refuse_foreign_directory()
        if not self.check:
            actions = self.run_transaction(args)
            return Outcome(True, "created environment %s%s" % (self.prefix, what), actions,
                           self.runner.list_installed(self.prefix))
        try:
            data = self.runner.run(*args)
        except CondaError as exc:
            self.module.warn("the dry run of creating %s failed, so the packages it would get are not known: %s"
                             % (self.prefix, exc.msg))
            return Outcome(True, "would create environment %s%s" % (self.prefix, what), after=[])
        actions = transaction(data)
        if not actions["LINK"] and isinstance(data, dict):
            # conda env create --dry-run --json (conda 24 to 26.6) prints the solved environment instead
            actions["LINK"] = [parse_dependency_string(dep) for dep in data.get("dependencies") or []
                               if isinstance(dep, str)]
        return Outcome(True, "would create environment %s%s" % (self.prefix, what), actions,
                       sorted(actions["LINK"], key=lambda rec: rec["name"] or ""))

    # -- the states ----------------------------------------------------------------------------
    def remove_environment(self):
        if not self.exists:
            return Outcome(False, "environment %s does not exist" % self.prefix, after=[])
        removed = {"LINK": [], "UNLINK": list(self.before)}
        if self.check:
            return Outcome(True, "would remove environment %s" % self.prefix, removed, after=[])
        if self.runner.kind == "conda":
            args = ["remove", "--all", "--prefix", self.prefix, "--yes", "--json", "--quiet"]
        else:
            args = ["env", "remove", "--prefix", self.prefix, "--yes", "--json", "--quiet"]
        actions = self.run_transaction(args + self.params["extra_args"])
        return Outcome(True, "removed environment %s" % self.prefix, actions if actions["UNLINK"] else removed, [])

    def remove_packages(self, specs):
        names = sorted(set(rec["name"] for rec in self.before for spec in specs if spec.match(rec)))
        if not names:
            return Outcome(False, "none of the packages is installed in %s" % self.prefix, after=self.before)
        args = ["remove", "--prefix", self.prefix, "--yes", "--json", "--quiet"]
        args += (["--dry-run"] if self.check else []) + names + self.params["extra_args"]
        actions = self.run_transaction(args)
        return Outcome(self.changed_by(actions), self.summary(actions), actions, self.installed_after(actions))

    def ensure_packages(self, specs):
        spec_strings = [spec.spec for spec in specs]
        if not self.exists:
            return self.create(self.solver_cmd("create", spec_strings, dry_run=self.check), "")
        if self.params["state"] == "latest" and specs:
            subcommand = "install"
            if self.runner.kind != "conda" and not self.unsatisfied(specs):
                subcommand = "update"
            wanted = spec_strings
        else:
            wanted = self.unmet(specs)[0]
            if not wanted:
                return Outcome(False, "All requested packages already installed in %s" % self.prefix,
                               after=self.before)
            subcommand = "install"
        actions = self.run_transaction(self.solver_cmd(subcommand, wanted, dry_run=self.check))
        return Outcome(self.changed_by(actions), self.summary(actions), actions, self.installed_after(actions))

    def ensure_file(self, path, env_file, specs):
        file_args = ["--file", path, "--prefix", self.prefix]
        if not self.exists:
            if self.check:
                args = ["env", "create"] + file_args + ["--dry-run", "--json", "--quiet"]
            else:
                args = ["env", "create"] + file_args + ["--yes", "--json", "--quiet"]
            return self.create(args + self.params["extra_args"], " from %s" % path)
        conda_unmet, pip_unmet = self.unmet(specs, env_file["pip"])
        if self.params["state"] != "latest" and not conda_unmet and not pip_unmet:
            return Outcome(False, "All requested packages already installed in %s (from %s)" % (self.prefix, path),
                           after=self.before)
        if not self.check:
            args = ["env", "update"] + file_args + ["--json", "--quiet"] + self.params["extra_args"]
            actions = self.run_transaction(args)
            after = self.installed_after(actions)
            changed = self.changed_by(actions) or bool(actions["PIP"]) or self.after_pip != self.before_pip
            return Outcome(changed, self.summary(actions), actions, after, self.after_pip)
        # env update has no --dry-run. It passes ALL the file's specs to the solver (which may update
        # satisfied ones too), so install's dry run is asked about all of them, with the file's channels.
        actions = {"LINK": [], "UNLINK": [], "PIP": []}
        if specs:
            actions = self.run_transaction(self.solver_cmd("install", [spec.spec for spec in specs],
                                                           channels=env_file["channels"], dry_run=True))
        actions["PIP"] = list(pip_unmet)
        names = set(pip_name(text) for text in pip_unmet)
        after_pip = dict((name, version) for name, version in self.before_pip.items() if pip_name(name) not in names)
        return Outcome(self.changed_by(actions) or bool(pip_unmet), self.summary(actions), actions,
                       self.installed_after(actions), (after_pip, pip_unmet))

    def summary(self, actions):
        verb = "would install" if self.check else "installed"
        pip = actions.get("PIP") or []
        pip_text = "%s pip package(s) %s in %s" % (verb, ", ".join(pip), self.prefix) if pip else ""
        if not self.changed_by(actions):
            return pip_text or "nothing to change in %s" % self.prefix
        return "%s %d and %s %d package(s) in %s%s" % (
            verb, len(actions["LINK"]), "would remove" if self.check else "removed",
            len(actions["UNLINK"]), self.prefix, "; " + pip_text if pip_text else "")

    # -- putting it together -------------------------------------------------------------------
    def parse_specs(self, specs, source):
        parsed = []
        for spec in specs:
            try:
                parsed.append(MatchSpec(spec))
            except InvalidMatchSpec as exc:
                self.module.fail_json(msg="%s: %s" % (source, to_native(exc)))
        return parsed

    def load_file(self):
        path = self.params["file"]
        try:
            env_file = read_env_file(path)
        except EnvFileError as exc:
            self.module.fail_json(msg="environment file %s: %s" % (path, to_native(exc)), file=path)
        return path, env_file, self.parse_specs(env_file["conda"], "environment file %s" % path)

    def apply(self):
        state = self.params["state"]
        if self.params["file"]:
            if state == "absent":
                self.module.fail_json(msg="file is used with state=present or state=latest; to remove the "
                                          "environment use state=absent without file")
            path, env_file, specs = self.load_file()
            self.manage_pip = bool(env_file["pip"])
            self.read_state()
            return self.ensure_file(path, env_file, specs)
        specs = self.parse_specs(self.params["packages"], "packages")
        self.read_state()
        if state == "absent":
            return self.remove_packages(specs) if specs else self.remove_environment()
        return self.ensure_packages(specs)


def build_module():
    return AnsibleModule(
        argument_spec=dict(
            prefix=dict(type="path"),
            name=dict(type="str"),
            state=dict(type="str", default="present", choices=["present", "absent", "latest"]),
            packages=dict(type="list", elements="str", default=[]),
            channels=dict(type="list", elements="str", default=[]),
            override_channels=dict(type="bool", default=True),
            file=dict(type="path"),
            executable=dict(type="str"),
            extra_args=dict(type="list", elements="str", default=[]),
        ),
        mutually_exclusive=[("prefix", "name"), ("packages", "file")],
        required_one_of=[("prefix", "name")],
        supports_check_mode=True,
    )


def main():
    module = build_module()
    runner = CondaRunner(module, find_executable(module, module.params["executable"]))
    env = CondaEnv(module, runner)
    try:
        outcome = env.apply()
    except CondaError as exc:
        module.fail_json(msg=exc.msg, prefix=env.prefix, executable=runner.executable, **exc.result)

    after = outcome.after if outcome.after is not None else env.before
    result = dict(
        changed=outcome.changed,
        msg=outcome.msg,
        prefix=env.prefix,
        executable=runner.executable,
        cmd=runner.commands,
        actions=dict(PIP=list(outcome.actions["PIP"]),
                     **{key: [record_line(rec) for rec in outcome.actions[key]] for key in ("LINK", "UNLINK")}),
        installed=[public_record(rec) for rec in after],
    )
    if module._diff:
        # pip-installed packages are shown where the module manages them: a file with pip dependencies
        before_pip = pip_lines(env.before_pip) if env.manage_pip else []
        if isinstance(outcome.after_pip, tuple):  # check mode: the pip specs that would be installed
            after_pip = pip_lines(outcome.after_pip[0]) + ["%s (pip)" % text for text in outcome.after_pip[1]]
        else:
            after_pip = pip_lines(outcome.after_pip if outcome.after_pip is not None else env.before_pip)
        after_pip = after_pip if env.manage_pip else []
        result["diff"] = dict(
            before_header=env.prefix, after_header=env.prefix,
            before="".join(line + "\n" for line in sorted([record_line(rec) for rec in env.before] + before_pip)),
            after="".join(line + "\n" for line in sorted([record_line(rec) for rec in after] + after_pip)),
        )
    module.exit_json(**result)


if __name__ == "__main__":
    main()
