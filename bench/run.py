"""`make bench`: how long the site takes to install and re-apply, and how fast its hub is,
next to the floors and to the bare-metal guide's plain setup. A benchmark, not a test.

    .venv/bin/python bench/run.py              the whole benchmark (about 40 minutes on 2 cores)
    .venv/bin/python bench/run.py --quick      a smoke run: 1 user one after another, 2 at once, 1 repeat
    .venv/bin/python bench/run.py --only hub --keep   reuse containers a --keep run left behind

All on fresh systemd containers of bmjh/debian12:latest (tests/harness/images.sh), named
bmjh-bench-*, ports on 127.0.0.1:19xxx, removed at the end (unless --keep):

    raw     bench/raw_install.sh: the site's apt, pip and npm installs done by a shell script
            (the floor for a cold install), then a minimal hand configuration of the same site
    cold    playbooks/site.yml on a fresh container, over the docker connection and over SSH
            (sshd in the container, pipelining on)
    no-op   the site playbook again on the converged container (median of --repeat runs)
    baseline  bench/baseline.yml: gather facts + one debug task (the floor for a run)
    hub     login -> JupyterLab for users one after another (p50, p95), kernel start + first
            execute (p50), the CPU-seconds each costs the machine; many users at once, each
            logging in and running code in a kernel (successes, time until every kernel has
            answered, CPU-seconds per user): ours
            through nginx over HTTPS, the guide's (bench/guide_install.sh) on its port 8000

Downloads (apt archives, pip, npm) are cached in .cache/bench and mounted into every bench
container, so that raw and cold installs see the same warm download cache; when the cache is
empty, an unmeasured raw install fills it first (its time is reported as "raw, empty cache").
Every container starts without apt package lists, so every install begins with one apt update.

Results: a table on stdout, bench/results/<UTC timestamp>.json and bench/results/latest.json,
the results section of docs/performance.md; the full ansible logs (profile_tasks) under
.cache/bench/logs/<timestamp>/.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime
import glob
import json
import math
import os
import pathlib
import re
import statistics
import subprocess
import sys
import threading
import time
from urllib.parse import urlsplit

import requests
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
import hub  # noqa: E402  (tests/e2e/hub.py: the e2e suite's browser-like client)

IMAGE = "bmjh/debian12:latest"
PREFIX = "bmjh-bench-"
PORTS = {"site_https": 19443, "ssh": 19022, "ssh_https": 19543, "guide": 19800, "raw_https": 19643}
CACHE = ROOT / ".cache" / "bench"
BIN = pathlib.Path(sys.executable).parent
PROFILE_LINE = re.compile(r"^(?P<task>.+?) -{3,} (?P<secs>[0-9]+\.[0-9]+)s$")
RECAP_LINE = re.compile(
    r"^(?P<host>\S+)\s*:\s*ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)"
    r"\s+failed=(?P<failed>\d+)\s+skipped=(?P<skipped>\d+)"
)


def log(msg: str) -> None:
    print(f"[bench {datetime.datetime.now():%H:%M:%S}] {msg}", file=sys.stderr, flush=True)


# --- the host and its neighbours ------------------------------------------------------


def ci_running() -> bool:
    """A molecule run (CI) competing for the CPU."""
    for pattern in ("molecule test", "bin/molecule"):
        if subprocess.run(["pgrep", "-f", pattern], capture_output=True, check=False).returncode == 0:
            return True
    return False


def wait_for_idle(minutes: float) -> dict:
    start = time.monotonic()
    waited = False
    while ci_running():
        if time.monotonic() - start > minutes * 60:
            log(f"a molecule run is still going after {minutes:.0f} min: measuring anyway (figures will be slower)")
            return {"ci_running": True, "waited_s": round(time.monotonic() - start)}
        if not waited:
            log(f"a molecule run is going: waiting for it to end (polling every 60 s, up to {minutes:.0f} min)")
            waited = True
        time.sleep(60)
    return {"ci_running": False, "waited_s": round(time.monotonic() - start)}


def role_defaults() -> dict:
    out = {}
    for role in ("jupyterhub_venv", "http_proxy"):
        out.update(yaml.safe_load((ROOT / "roles" / role / "defaults" / "main.yml").read_text()))
    return {
        "jupyterhub": str(out["jupyterhub_venv_jupyterhub_version"]),
        "jupyterlab": str(out["jupyterhub_venv_jupyterlab_version"]),
        "ipywidgets": str(out["jupyterhub_venv_ipywidgets_version"]),
        "idle_culler": str(out["jupyterhub_venv_idle_culler_version"]),
        "rfc3987": str(out["jupyterhub_venv_rfc3987_version"]),
        "configurable_http_proxy": str(out["http_proxy_version"]),
    }


def version_env(v: dict) -> dict:
    return {
        "BENCH_JUPYTERHUB": v["jupyterhub"],
        "BENCH_JUPYTERLAB": v["jupyterlab"],
        "BENCH_IPYWIDGETS": v["ipywidgets"],
        "BENCH_IDLE_CULLER": v["idle_culler"],
        "BENCH_RFC3987": v["rfc3987"],
        "BENCH_CHP": v["configurable_http_proxy"],
    }


# --- containers -----------------------------------------------------------------------


def docker(*argv: str, check: bool = True, **kw) -> subprocess.CompletedProcess:
    proc = subprocess.run(["docker", *argv], text=True, capture_output=True, check=False, **kw)
    if check and proc.returncode:
        raise RuntimeError(f"docker {' '.join(argv)}: rc {proc.returncode}: {proc.stderr.strip()}")
    return proc


def exists(name: str) -> bool:
    return docker("inspect", name, check=False).returncode == 0


def remove(name: str) -> None:
    if exists(name):
        docker("rm", "-f", name)
        log(f"removed {name}")


def start_container(name: str, ports: dict[int, int], cache: bool) -> None:
    """A systemd container as tests/harness/demo.sh starts it (ports: host -> container)."""
    remove(name)
    argv = ["run", "-d", "--name", name, "--hostname", name,
            "--cap-add", "SYS_ADMIN", "--cgroupns=host", "--security-opt", "seccomp=unconfined",
            "--tmpfs", "/run", "--tmpfs", "/run/lock", "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw",
            "--stop-signal", "SIGRTMIN+3"]
    if cache:
        for sub, dest in (("pip", "/root/.cache/pip"), ("npm", "/root/.npm"), ("apt", "/var/cache/apt/archives")):
            (CACHE / sub).mkdir(parents=True, exist_ok=True)
            argv += ["-v", f"{CACHE / sub}:{dest}"]
    for host_port, port in ports.items():
        argv += ["-p", f"127.0.0.1:{host_port}:{port}"]
    docker(*argv, IMAGE, "/sbin/init")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        state = docker("exec", name, "systemctl", "is-system-running", check=False).stdout.strip()
        if state in ("running", "degraded"):
            return
        time.sleep(0.5)
    raise RuntimeError(f"{name}: systemd did not finish booting ({state})")


def run_script(name: str, script: str, env: dict | None = None, logfile: pathlib.Path | None = None) -> tuple[float, str]:
    """Run a bench/ shell script inside a container as root; return (seconds, stdout)."""
    argv = ["docker", "exec", "-i"]
    for key, value in (env or {}).items():
        argv += ["-e", f"{key}={value}"]
    argv += [name, "bash", "-s"]
    start = time.monotonic()
    with open(BENCH / script, encoding="utf-8") as stdin:
        proc = subprocess.run(argv, stdin=stdin, text=True, capture_output=True, check=False)
    secs = time.monotonic() - start
    if logfile:
        logfile.write_text(proc.stdout + "\n--- stderr ---\n" + proc.stderr)
    if proc.returncode:
        raise RuntimeError(f"{script} failed in {name} (rc {proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    return secs, proc.stdout


def steps(stdout: str) -> dict:
    out: dict = {}
    for line in stdout.splitlines():
        if line.startswith("@@step "):
            phase, step, secs = line.split()[1:]
            out.setdefault(phase, {})[step] = float(secs)
    return out


def prepare(name: str, users: list[str], ssh_key: str = "") -> None:
    """Trust the controller's CAs (as tests/harness/demo.yml does) and add the bench users."""
    docker("exec", name, "mkdir", "-p", "/usr/local/share/ca-certificates")
    for crt in sorted(pathlib.Path("/usr/local/share/ca-certificates").glob("*.crt")):
        docker("cp", str(crt), f"{name}:/usr/local/share/ca-certificates/{crt.name}")
    run_script(name, "prepare.sh", {"BENCH_USERS": " ".join(users), "BENCH_SSH_KEY": ssh_key})


# --- ansible --------------------------------------------------------------------------


def ansible(playbook: str, inventory: pathlib.Path, logfile: pathlib.Path) -> dict:
    env = dict(os.environ,
               ANSIBLE_CONFIG=str(ROOT / "tests" / "harness" / "ansible.cfg"),
               PROFILE_TASKS_TASK_OUTPUT_LIMIT="all",
               ANSIBLE_FORCE_COLOR="false", ANSIBLE_NOCOLOR="1",
               PATH=f"{BIN}:{os.environ.get('PATH', '')}")
    argv = [str(BIN / "ansible-playbook"), "-i", str(inventory), playbook]
    start = time.monotonic()
    proc = subprocess.run(argv, cwd=ROOT, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
    secs = time.monotonic() - start
    logfile.write_text(proc.stdout)
    if proc.returncode:
        raise RuntimeError(f"{playbook} failed (rc {proc.returncode}); log: {logfile}\n{proc.stdout[-4000:]}")
    recap = next((m.groupdict() for m in map(RECAP_LINE.match, proc.stdout.splitlines()) if m), {})
    summary = proc.stdout.rpartition("=" * 79)[2]
    tasks = [(m["task"].strip(), float(m["secs"])) for m in map(PROFILE_LINE.match, summary.splitlines()) if m]
    return {"seconds": round(secs, 2), "recap": {k: (v if k == "host" else int(v)) for k, v in recap.items()},
            "tasks": tasks, "log": str(logfile.relative_to(ROOT))}


def write_inventory(path: pathlib.Path, host: str, hostvars: dict, users: list[str]) -> None:
    inv = {"jupyterhub": {
        "hosts": {host: dict(hostvars, ansible_python_interpreter="/usr/bin/python3")},
        "vars": {
            "jupyterhub_venv_allowed_users": users,
            # conda channels are not reachable here; the venv manager installs the same kernel.
            "shared_env_manager": "venv",
            # The bench logs its users in from one address (the Docker network's gateway),
            # 50 at once: a classroom behind a NAT, which the login throttle lets through.
            "reverse_proxy_login_exempt": ["172.16.0.0/12"],
        },
    }}
    path.write_text(yaml.safe_dump(inv, sort_keys=False))


def site_runs(label: str, container: str, inventory: pathlib.Path, logs: pathlib.Path, repeat: int) -> dict:
    """cold, then no-op runs interleaved with the baseline plays (median of `repeat`)."""
    log(f"{label}: cold run of playbooks/site.yml")
    cold = ansible("playbooks/site.yml", inventory, logs / f"{label}-cold.log")
    log(f"{label}: cold {cold['seconds']} s, {cold['recap'].get('changed')} changed")
    noop, base, base_min = [], [], []
    for i in range(repeat):
        noop.append(ansible("playbooks/site.yml", inventory, logs / f"{label}-noop-{i + 1}.log"))
        base.append(ansible("bench/baseline.yml", inventory, logs / f"{label}-baseline-{i + 1}.log"))
        base_min.append(ansible("bench/baseline_min.yml", inventory, logs / f"{label}-baseline-min-{i + 1}.log"))
        log(f"{label}: no-op {noop[-1]['seconds']} s ({noop[-1]['recap'].get('changed')} changed), "
            f"baseline {base[-1]['seconds']} s, baseline (min facts) {base_min[-1]['seconds']} s")
    # The same no-op run as on the day after: apt's lists older than the roles' cache_valid_time (1 h).
    docker("exec", container, "sh", "-c", "touch -d '-2 hours' /var/lib/apt/lists /var/lib/apt/periodic/update-success-stamp"
           " 2>/dev/null; true")
    stale = ansible("playbooks/site.yml", inventory, logs / f"{label}-noop-stale-apt.log")
    log(f"{label}: no-op with apt lists 2 h old {stale['seconds']} s ({stale['recap'].get('changed')} changed)")
    # The profile of the median no-op run.
    mid = sorted(noop, key=lambda r: r["seconds"])[len(noop) // 2]
    return {
        "cold_s": cold["seconds"],
        "cold_recap": cold["recap"],
        "cold_tasks": cold["tasks"][:25],
        "noop_s": [r["seconds"] for r in noop],
        "noop_median_s": statistics.median(r["seconds"] for r in noop),
        "noop_changed": [r["recap"].get("changed") for r in noop],
        "noop_recap": mid["recap"],
        "noop_tasks": mid["tasks"],
        "noop_task_sum_s": round(sum(task[1] for task in mid["tasks"]), 2),
        "noop_stale_apt_s": stale["seconds"],
        "noop_stale_apt_changed": stale["recap"].get("changed"),
        "noop_stale_apt_tasks": stale["tasks"][:10],
        "baseline_s": [r["seconds"] for r in base],
        "baseline_median_s": statistics.median(r["seconds"] for r in base),
        "baseline_min_facts_s": [r["seconds"] for r in base_min],
        "baseline_min_facts_median_s": statistics.median(r["seconds"] for r in base_min),
        "logs": {"cold": cold["log"], "noop": [r["log"] for r in noop]},
    }


# --- the hub, as users meet it ----------------------------------------------------------


def lab_page(resp: requests.Response, user: str) -> bool:
    return (resp.status_code == 200 and urlsplit(resp.url).path.endswith(f"/user/{user}/lab")
            and "jupyter-config-data" in resp.text and "JupyterLab" in resp.text)


def wait_progress(s: hub.HubSession, deadline: float) -> str:
    """Follow the spawn's progress events as the spawn-pending page does; 'ready' or why not."""
    url = s.url(f"hub/api/users/{s.user}/server/progress")
    xsrf = s.hub_xsrf()
    with s.http.get(url, params={"_xsrf": xsrf}, headers={"X-XSRFToken": xsrf, "Accept": "text/event-stream"},
                    stream=True, timeout=(30, max(1.0, deadline - time.monotonic()))) as r:
        if r.status_code != 200:
            return f"progress answered {r.status_code}: {r.text[:200]}"
        for line in r.iter_lines():
            if time.monotonic() > deadline:
                return "timed out"
            if not line.startswith(b"data:"):
                continue
            event = json.loads(line[5:])
            if event.get("ready"):
                return "ready"
            if event.get("failed"):
                return f"spawn failed: {event.get('message', '')[:300]}"
    return "progress stream ended before ready"


def login_to_lab(target: hub.Target, user: str, timeout: float = 300) -> dict:
    """A browser's path from the login form to JupyterLab; times from the first request."""
    s = hub.HubSession(target, user)
    deadline = time.monotonic() + timeout
    t0 = time.monotonic()
    out = {"user": user, "session": s}
    try:
        r = s.login()
        out["login_s"] = round(time.monotonic() - t0, 3)
        if not s.logged_in:
            out["error"] = f"login failed: {r.status_code} at {r.url}"
            return out
        if not lab_page(r, user):
            status = wait_progress(s, deadline)
            out["spawned_s"] = round(time.monotonic() - t0, 3)
            if status != "ready":
                out["error"] = status
                return out
            r = s.http.get(s.url(f"user/{user}/lab"), timeout=hub.TIMEOUT)
            if not lab_page(r, user):
                out["error"] = f"user/{user}/lab answered {r.status_code} at {r.url}"
                return out
        out["ready_s"] = round(time.monotonic() - t0, 3)
    except (requests.RequestException, ValueError, AssertionError) as exc:
        out["error"] = f"{type(exc).__name__}: {exc}"[:300]
    return out


def kernel_first_execute(s: hub.HubSession, kernel: str) -> dict:
    """Start a kernel over REST, open its websocket, run one cell: (start, total) seconds."""
    s.api_token()  # made before the clock starts: a browser has its session already
    t0 = time.monotonic()
    k = hub.Kernel(s, kernel)
    started = time.monotonic() - t0
    try:
        assert k.execute("print(6 * 7)").strip() == "42"
        return {"start_s": round(started, 3), "total_s": round(time.monotonic() - t0, 3)}
    finally:
        k.shutdown()


def stop_all(sessions: list[hub.HubSession]) -> None:
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda s: s.stop(timeout=120), sessions))


def spawn_log(container: str) -> list[float]:
    """The hub's own figure for each spawn ("User x took 3.2 seconds to start")."""
    out = docker("exec", container, "journalctl", "-u", "jupyterhub", "--no-pager", "-o", "cat", check=False).stdout
    return [float(x) for x in re.findall(r"took ([0-9.]+) seconds to start", out)]


def container_cpu_s(container: str) -> float | None:
    """CPU-seconds the container's processes have used, from its cgroup (v1 or v2)."""
    cid = docker("inspect", "-f", "{{.Id}}", container).stdout.strip()
    for pattern, scale in ((f"/sys/fs/cgroup/cpuacct/**/{cid}/cpuacct.usage", 1e9),
                           (f"/sys/fs/cgroup/**/*{cid}*/cpu.stat", 1e6)):
        for path in glob.glob(pattern, recursive=True):
            text = pathlib.Path(path).read_text()
            value = text.split() if scale == 1e9 else re.findall(r"^usage_usec (\d+)$", text, re.M)
            return int(value[0]) / scale
    return None


def per(delta: float | None, count: int) -> float | None:
    return round(delta / count, 2) if delta is not None and count else None


def cpu_since(container: str, before: float | None) -> float | None:
    now = container_cpu_s(container)
    return now - before if now is not None and before is not None else None


def quantile(values: list[float], q: float) -> float | None:
    """Nearest-rank quantile (p95 of 10 values is the largest)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def measure_hub(label: str, target: hub.Target, seq_users: list[str], conc_users: list[str], kernel: str) -> dict:
    hub.wait_until(lambda: requests.get(target.url + "hub/login", verify=target.verify, timeout=5).status_code == 200,
                   120, 1, f"{label}: hub answers")
    # One unmeasured user first, so that neither hub is measured on its very first spawn.
    warm = login_to_lab(target, seq_users[0])
    if "error" in warm:
        raise RuntimeError(f"{label}: warm-up login failed: {warm['error']}")
    stop_all([warm["session"]])
    seq_users = seq_users[1:]
    spawns_before = len(spawn_log(target.container))

    log(f"{label}: {len(seq_users)} users one after another")
    seq = []
    cpu = container_cpu_s(target.container)
    for user in seq_users:
        seq.append(login_to_lab(target, user))
        log(f"{label}:   {user}: {seq[-1].get('ready_s', seq[-1].get('error'))}")
    ready = [r["ready_s"] for r in seq if "ready_s" in r]
    # Everything the machine did for them: the hub, the proxies, the servers, the lab page.
    cpu_login = per(cpu_since(target.container, cpu), len(ready))

    log(f"{label}: kernel start + first execute")
    kernels = []
    cpu = container_cpu_s(target.container)
    for r in seq:
        if "ready_s" in r:
            try:
                kernels.append(kernel_first_execute(r["session"], kernel))
            except (AssertionError, requests.RequestException, OSError) as exc:
                log(f"{label}:   kernel for {r['user']} failed: {exc}")
    cpu_kernel = per(cpu_since(target.container, cpu), len(kernels))
    stop_all([r["session"] for r in seq if "session" in r])
    spawns_seq = spawn_log(target.container)[spawns_before:]

    log(f"{label}: {len(conc_users)} users at once")
    barrier = threading.Barrier(len(conc_users))

    def one(user):
        """Log in, get JupyterLab, start a kernel and run code in it: ready when it answers."""
        barrier.wait()
        t0 = time.monotonic()
        r = login_to_lab(target, user)
        if "ready_s" in r:
            r["lab_s"] = r.pop("ready_s")
            try:
                r["kernel"] = kernel_first_execute(r["session"], kernel)
                r["ready_s"] = round(time.monotonic() - t0, 3)
            except Exception as exc:  # a websocket that closes, a timeout: this user failed
                r["error"] = f"kernel: {type(exc).__name__}: {exc}"[:300]
        return r

    cpu = container_cpu_s(target.container)
    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(len(conc_users)) as pool:
        conc = list(pool.map(one, conc_users))
    conc_wall = time.monotonic() - t0
    cpu_conc = per(cpu_since(target.container, cpu), len(conc))
    ok = [r["ready_s"] for r in conc if "ready_s" in r]
    errors = sorted({r["error"] for r in conc if "error" in r})
    stop_all([r["session"] for r in conc if "session" in r and "lab_s" in r])
    spawns_conc = spawn_log(target.container)[spawns_before + len(spawns_seq):]
    log(f"{label}: {len(ok)}/{len(conc)} ready, all within {max(ok) if ok else '-'} s; errors: {errors or 'none'}")

    def strip(rows):
        return [{k: v for k, v in r.items() if k != "session"} for r in rows]

    return {
        "url": target.url,
        "login_to_lab_s": ready,
        "login_to_lab_p50_s": quantile(ready, 0.5),
        "login_to_lab_p95_s": quantile(ready, 0.95),
        "login_post_p50_s": quantile([r["login_s"] for r in seq if "login_s" in r], 0.5),
        "lab_page_p50_s": quantile([round(r["ready_s"] - r["spawned_s"], 3) for r in seq if "spawned_s" in r and "ready_s" in r], 0.5),
        "hub_spawn_p50_s": quantile(spawns_seq, 0.5),
        "sequential": strip(seq),
        "kernel_first_execute_s": [k["total_s"] for k in kernels],
        "kernel_first_execute_p50_s": quantile([k["total_s"] for k in kernels], 0.5),
        "kernel_start_p50_s": quantile([k["start_s"] for k in kernels], 0.5),
        "cpu_per_login_s": cpu_login,
        "cpu_per_kernel_s": cpu_kernel,
        "concurrent_cpu_per_user_s": cpu_conc,
        "concurrent_lab_last_s": max((r["lab_s"] for r in conc if "lab_s" in r), default=None),
        "concurrent_users": len(conc),
        "concurrent_ready": len(ok),
        "concurrent_failures": len(conc) - len(ok),
        "concurrent_all_ready_s": round(max(ok), 2) if ok and len(ok) == len(conc) else None,
        "concurrent_last_ready_s": round(max(ok), 2) if ok else None,
        "concurrent_p50_s": quantile(ok, 0.5),
        "concurrent_wall_s": round(conc_wall, 2),
        "concurrent_errors": errors,
        "concurrent_hub_spawn_max_s": max(spawns_conc) if spawns_conc else None,
        "concurrent": strip(conc),
    }


# --- the report -------------------------------------------------------------------------


def ratio(a, b):
    return round(a / b, 2) if a is not None and b else None


def fmt(v, unit=" s"):
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.2f}{unit}" if v < 10 else f"{v:.1f}{unit}"
    return f"{v}{unit}"


def evaluate(res: dict) -> list[dict]:
    t = []
    raw = res.get("raw", {})
    for conn in ("docker", "ssh"):
        site = res.get("site", {}).get(conn)
        if not site:
            continue
        if raw.get("install_s"):
            r = ratio(site["cold_s"], raw["install_s"])
            t.append({"target": f"cold ({conn}) <= 1.3 x raw installs", "value": f"{r} x", "met": r <= 1.3})
        r = ratio(site["noop_median_s"], site["baseline_median_s"])
        t.append({"target": f"no-op ({conn}) <= 2 x baseline", "value": f"{r} x", "met": r <= 2})
        t.append({"target": f"no-op ({conn}) < 10 s", "value": f"{site['noop_median_s']:.1f} s",
                  "met": site["noop_median_s"] < 10})
        t.append({"target": f"no-op ({conn}) changes nothing", "value": f"changed={site['noop_changed']}",
                  "met": not any(site["noop_changed"])})
    ours, guide = res.get("hub", {}).get("ours"), res.get("hub", {}).get("guide")
    if ours and guide:
        r = ratio(ours["login_to_lab_p50_s"], guide["login_to_lab_p50_s"])
        t.append({"target": "login->lab p50 <= 0.5 x guide's", "value": f"{r} x", "met": r is not None and r <= 0.5})
        t.append({"target": f"{ours['concurrent_users']} users at once: 0 failures",
                  "value": f"{ours['concurrent_failures']} failed", "met": ours["concurrent_failures"] == 0})
        t.append({"target": f"{ours['concurrent_users']} users at once: every kernel answers within 60 s",
                  "value": fmt(ours["concurrent_last_ready_s"]),
                  "met": ours["concurrent_all_ready_s"] is not None and ours["concurrent_all_ready_s"] <= 60})
        r = ratio(ours["kernel_first_execute_p50_s"], guide["kernel_first_execute_p50_s"])
        t.append({"target": "kernel start + execute p50 <= guide's", "value": f"{r} x",
                  "met": r is not None and r <= 1})
    return t


def table(res: dict) -> str:
    rows = [("what", "ours", "floor / guide", "ratio")]
    raw, site, hubs = res.get("raw", {}), res.get("site", {}), res.get("hub", {})
    if raw:
        rows.append(("raw installs (apt, pip, npm), warm download cache", "", fmt(raw["install_s"]), ""))
        rows.append(("raw installs + minimal configuration + start", "", fmt(raw["total_s"]), ""))
    if res.get("raw_empty_cache"):
        rows.append(("raw installs, empty download cache", "", fmt(res["raw_empty_cache"]["install_s"]), ""))
    for conn in ("docker", "ssh"):
        s = site.get(conn)
        if not s:
            continue
        via = "docker connection" if conn == "docker" else "SSH, pipelining"
        if raw:
            rows.append((f"cold site run ({via}) / raw installs", fmt(s["cold_s"]), fmt(raw["install_s"]),
                         f"{ratio(s['cold_s'], raw['install_s'])} x"))
            rows.append((f"cold site run ({via}) / raw + configuration", fmt(s["cold_s"]), fmt(raw["total_s"]),
                         f"{ratio(s['cold_s'], raw['total_s'])} x"))
        else:
            rows.append((f"cold site run ({via})", fmt(s["cold_s"]), "", ""))
        rows.append((f"no-op site run ({via}) / baseline play (full facts)", fmt(s["noop_median_s"]),
                     fmt(s["baseline_median_s"]), f"{ratio(s['noop_median_s'], s['baseline_median_s'])} x"))
        rows.append((f"no-op site run ({via}) / baseline play (min facts)", fmt(s["noop_median_s"]),
                     fmt(s["baseline_min_facts_median_s"]),
                     f"{ratio(s['noop_median_s'], s['baseline_min_facts_median_s'])} x"))
        rows.append((f"no-op site run ({via}), apt lists 2 h old / baseline (full facts)", fmt(s["noop_stale_apt_s"]),
                     fmt(s["baseline_median_s"]), f"{ratio(s['noop_stale_apt_s'], s['baseline_median_s'])} x"))
    if res.get("guide_install"):
        rows.append(("the guide's install by script (for reference)", "", fmt(res["guide_install"]["total_s"]), ""))
    o, g = hubs.get("ours"), hubs.get("guide")
    if o and g:
        n = len(o["login_to_lab_s"])
        rows.append((f"login -> JupyterLab, {n} users one after another, p50", fmt(o["login_to_lab_p50_s"]),
                     fmt(g["login_to_lab_p50_s"]), f"{ratio(o['login_to_lab_p50_s'], g['login_to_lab_p50_s'])} x"))
        rows.append((f"login -> JupyterLab, {n} users one after another, p95", fmt(o["login_to_lab_p95_s"]),
                     fmt(g["login_to_lab_p95_s"]), f"{ratio(o['login_to_lab_p95_s'], g['login_to_lab_p95_s'])} x"))
        rows.append(("  of which: spawn as the hub logs it, p50", fmt(o["hub_spawn_p50_s"]), fmt(g["hub_spawn_p50_s"]),
                     f"{ratio(o['hub_spawn_p50_s'], g['hub_spawn_p50_s'])} x"))
        rows.append(("  of which: login form POST (with redirects), p50", fmt(o["login_post_p50_s"]),
                     fmt(g["login_post_p50_s"]), f"{ratio(o['login_post_p50_s'], g['login_post_p50_s'])} x"))
        c = o["concurrent_users"]
        rows.append((f"{c} users at once: ready / failed", f"{o['concurrent_ready']} / {o['concurrent_failures']}",
                     f"{g['concurrent_ready']} / {g['concurrent_failures']}", ""))
        rows.append((f"{c} users at once: time until the last one's kernel answers", fmt(o["concurrent_last_ready_s"]),
                     fmt(g["concurrent_last_ready_s"]),
                     f"{ratio(o['concurrent_last_ready_s'], g['concurrent_last_ready_s'])} x"))
        rows.append((f"{c} users at once: half of them had their kernel's answer after (p50)", fmt(o["concurrent_p50_s"]),
                     fmt(g["concurrent_p50_s"]), f"{ratio(o['concurrent_p50_s'], g['concurrent_p50_s'])} x"))
        rows.append((f"{c} users at once: CPU per user (login, lab, kernel, code)",
                     fmt(o.get("concurrent_cpu_per_user_s"), " CPU-s"), fmt(g.get("concurrent_cpu_per_user_s"), " CPU-s"),
                     f"{ratio(o.get('concurrent_cpu_per_user_s'), g.get('concurrent_cpu_per_user_s'))} x"))
        rows.append(("CPU per login -> JupyterLab, one after another (the whole machine)",
                     fmt(o.get("cpu_per_login_s"), " CPU-s"), fmt(g.get("cpu_per_login_s"), " CPU-s"),
                     f"{ratio(o.get('cpu_per_login_s'), g.get('cpu_per_login_s'))} x"))
        rows.append(("CPU per kernel start + first execute",
                     fmt(o.get("cpu_per_kernel_s"), " CPU-s"), fmt(g.get("cpu_per_kernel_s"), " CPU-s"),
                     f"{ratio(o.get('cpu_per_kernel_s'), g.get('cpu_per_kernel_s'))} x"))
        rows.append(("  of which: progress says ready -> JupyterLab page (OAuth), p50", fmt(o["lab_page_p50_s"]),
                     fmt(g["lab_page_p50_s"]), f"{ratio(o['lab_page_p50_s'], g['lab_page_p50_s'])} x"))
        rows.append(("kernel start (REST POST), p50", fmt(o["kernel_start_p50_s"]), fmt(g["kernel_start_p50_s"]),
                     f"{ratio(o['kernel_start_p50_s'], g['kernel_start_p50_s'])} x"))
        rows.append(("kernel start + first execute, p50", fmt(o["kernel_first_execute_p50_s"]),
                     fmt(g["kernel_first_execute_p50_s"]),
                     f"{ratio(o['kernel_first_execute_p50_s'], g['kernel_first_execute_p50_s'])} x"))
    widths = [max(len(str(r[i])) for r in rows) for i in range(4)]
    lines = ["| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |" for r in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def targets_table(res: dict) -> str:
    lines = ["| target | measured | |", "|---|---|---|"]
    for t in res["targets"]:
        lines.append(f"| {t['target']} | {t['value']} | {'met' if t['met'] else '**missed**'} |")
    return "\n".join(lines)


def noop_profile(res: dict, n: int = 12) -> str:
    # The SSH run is the one the target is set for; docker where SSH was not run.
    conn = "ssh" if res.get("site", {}).get("ssh") else "docker"
    s = res.get("site", {}).get(conn)
    if not s:
        return ""
    via = "SSH, pipelining" if conn == "ssh" else "docker connection"
    lines = [f"Slowest tasks of the median no-op run ({via}; all tasks together "
             f"{s['noop_task_sum_s']:.1f} s of {s['noop_median_s']:.1f} s wall clock, "
             f"{s['noop_recap'].get('ok', '?')} ok, {s['noop_recap'].get('skipped', '?')} skipped):", "",
             "| task | s |", "|---|---|"]
    lines += [f"| {task.replace('|', '/')} | {secs:.2f} |" for task, secs in s["noop_tasks"][:n]]
    return "\n".join(lines)


BEGIN, END = "<!-- BEGIN RESULTS (bench/run.py) -->", "<!-- END RESULTS -->"


def write_docs(res: dict) -> None:
    doc = ROOT / "docs" / "performance.md"
    h = res["host"]
    section = "\n".join([
        BEGIN,
        f"Run of {res['timestamp']} on {h['cpus']} CPUs, {h['mem_gb']} GB RAM "
        f"({'a CI run was going at the same time' if h['ci_running'] else 'nothing else running'}; "
        f"load average before: {h['loadavg_before']}). JupyterHub {res['versions']['jupyterhub']}, "
        f"JupyterLab {res['versions']['jupyterlab']}, configurable-http-proxy {res['versions']['configurable_http_proxy']}. "
        f"Figures: `bench/results/{res['file']}`.",
        "",
        table(res),
        "",
        targets_table(res),
        "",
        noop_profile(res),
        END,
    ])
    text = doc.read_text() if doc.exists() else f"# Performance\n\n{BEGIN}\n{END}\n"
    if BEGIN not in text:
        text += f"\n{BEGIN}\n{END}\n"
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1] if END in rest else ""

    doc.write_text(head + section + tail)


# --- the run ----------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default="raw,docker,ssh,guide,hub",
                    help="stages, comma-separated: raw, docker, ssh, guide, hub (default: all)")
    ap.add_argument("--seq-users", type=int, default=10, help="users logging in one after another (default 10)")
    ap.add_argument("--conc-users", type=int, default=50,
                    help="users logging in at once, each then running code in a kernel (default 50)")
    ap.add_argument("--repeat", type=int, default=3, help="no-op and baseline runs each, median taken (default 3)")
    ap.add_argument("--quick", action="store_true", help="smoke run: 1 + 2 users, 1 repeat, no SSH")
    ap.add_argument("--keep", action="store_true", help="leave the containers running (for --only hub etc.)")
    ap.add_argument("--no-cache", action="store_true", help="no download cache: every install downloads")
    ap.add_argument("--wait-for-ci", type=float, default=90, metavar="MIN",
                    help="wait up to MIN minutes for a running molecule test to end (default 90; 0 = don't)")
    ap.add_argument("--no-save", action="store_true", help="print only: no results file, docs untouched")
    args = ap.parse_args()
    stages = set(args.only.split(","))
    if args.quick:
        args.seq_users, args.conc_users, args.repeat = 1, 2, 1
        stages.discard("ssh")
    cache = not args.no_cache

    if docker("image", "inspect", IMAGE, check=False).returncode:
        log(f"{IMAGE} is missing: run tests/harness/images.sh debian12 (make images)")
        return 1
    idle = wait_for_idle(args.wait_for_ci) if args.wait_for_ci > 0 else {"ci_running": ci_running(), "waited_s": 0}
    now = datetime.datetime.now(datetime.timezone.utc)
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    logs = CACHE / "logs" / stamp
    logs.mkdir(parents=True, exist_ok=True)
    versions = role_defaults()
    venv = version_env(versions)
    # bench00 warms each hub up; then --seq-users one after another, then --conc-users at once.
    users = [f"bench{i:02d}" for i in range(args.seq_users + args.conc_users + 1)]
    seq_users, conc_users = users[:args.seq_users + 1], users[args.seq_users + 1:]
    res: dict = {
        "timestamp": now.isoformat(timespec="seconds"),
        "file": f"{stamp}.json",
        "host": {"cpus": os.cpu_count(), "mem_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30),
                 "loadavg_before": [round(x, 2) for x in os.getloadavg()], **idle},
        "versions": versions,
        "settings": {"image": IMAGE, "download_cache": cache, "repeat": args.repeat,
                     "seq_users": args.seq_users, "conc_users": args.conc_users, "stages": sorted(stages)},
        "site": {}, "hub": {},
    }
    names = {k: PREFIX + k for k in ("warm", "raw", "site", "ssh", "guide")}
    created = []
    try:
        if cache and not (CACHE / ".warm").exists() and stages & {"raw", "docker", "ssh"}:
            log("filling the download cache with an unmeasured raw install")
            start_container(names["warm"], {}, cache)
            created.append(names["warm"])
            prepare(names["warm"], [])
            secs, out = run_script(names["warm"], "raw_install.sh", venv, logs / "raw-empty-cache.log")
            res["raw_empty_cache"] = {"install_s": round(secs, 2), "steps": steps(out).get("install", {})}
            (CACHE / ".warm").write_text(stamp)
            remove(names["warm"])

        if "raw" in stages:
            log("raw: installs and configuration by a shell script")
            start_container(names["raw"], {PORTS["raw_https"]: 443}, cache)
            created.append(names["raw"])
            prepare(names["raw"], [])
            secs, out = run_script(names["raw"], "raw_install.sh", dict(venv, BENCH_CONFIGURE="1"), logs / "raw.log")
            st = steps(out)
            res["raw"] = {"total_s": round(secs, 2), "install_s": round(sum(st.get("install", {}).values()), 2),
                          "configure_s": round(sum(st.get("configure", {}).values()), 2), "steps": st}
            log(f"raw: installs {res['raw']['install_s']} s, all {res['raw']['total_s']} s")
            remove(names["raw"])

        if "docker" in stages:
            start_container(names["site"], {PORTS["site_https"]: 443}, cache)
            created.append(names["site"])
            prepare(names["site"], users)
            inv = logs / "site.yml"
            write_inventory(inv, names["site"], {"ansible_connection": "community.docker.docker"}, users)
            res["site"]["docker"] = site_runs("docker", names["site"], inv, logs, args.repeat)

        if "ssh" in stages:
            key = CACHE / "ssh" / "id_ed25519"
            if not key.exists():
                key.parent.mkdir(parents=True, exist_ok=True)
                subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
            start_container(names["ssh"], {PORTS["ssh"]: 22, PORTS["ssh_https"]: 443}, cache)
            created.append(names["ssh"])
            prepare(names["ssh"], users, ssh_key=key.with_suffix(".pub").read_text().strip())
            inv = logs / "ssh.yml"
            write_inventory(inv, names["ssh"], {
                "ansible_host": "127.0.0.1", "ansible_port": PORTS["ssh"], "ansible_user": "admin",
                "ansible_ssh_private_key_file": str(key), "ansible_ssh_pipelining": True,
                "ansible_ssh_common_args": "-o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no",
            }, users)
            res["site"]["ssh"] = site_runs("ssh", names["ssh"], inv, logs, args.repeat)
            if not args.keep:
                remove(names["ssh"])

        if "guide" in stages:
            log("guide: the guide's plain setup by script")
            start_container(names["guide"], {PORTS["guide"]: 8000}, cache)
            created.append(names["guide"])
            prepare(names["guide"], users)
            secs, out = run_script(names["guide"], "guide_install.sh", venv, logs / "guide.log")
            res["guide_install"] = {"total_s": round(secs, 2), "steps": steps(out).get("guide", {})}
            log(f"guide: installed in {secs:.1f} s")

        if "hub" in stages:
            hub.TIMEOUT = 120  # the login POST waits for the spawn's first seconds; 20 at once take longer
            if not (exists(names["site"]) and exists(names["guide"])):
                raise RuntimeError("the hub stage needs the docker and guide stages (or their --keep containers)")
            ours = hub.Target(container=names["site"], url=f"https://127.0.0.1:{PORTS['site_https']}/jupyter/",
                              ca="/etc/nginx/jupyterhub-tls/cert.pem")
            guide = hub.Target(container=names["guide"], url=f"http://127.0.0.1:{PORTS['guide']}/")
            # The idle hub of the other container keeps still while one is measured.
            res["hub"]["ours"] = measure_hub("ours", ours, seq_users, conc_users, "python3")
            res["hub"]["guide"] = measure_hub("guide", guide, seq_users, conc_users, "python3")
    finally:
        if not args.keep:
            for name in created:
                remove(name)
        for name in names.values():
            if args.keep and exists(name):
                log(f"kept {name}")

    res["targets"] = evaluate(res)
    print()
    print(table(res))
    print()
    print(targets_table(res))
    print()
    print(noop_profile(res))
    if not args.no_save:
        out = BENCH / "results"
        out.mkdir(exist_ok=True)
        text = json.dumps(res, indent=2) + "\n"
        (out / res["file"]).write_text(text)
        (out / "latest.json").write_text(text)
        write_docs(res)
        log(f"saved bench/results/{res['file']} (and latest.json), docs/performance.md; logs in {logs.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
