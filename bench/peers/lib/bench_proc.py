"""Processes and the servers of the side-by-side benchmark: /proc accounting (CPU ticks,
RSS, pinning), HTTP probes, the origin nginx and the targets driven through their adapters.

Every process stopped here is one the harness started, by PID, checked against its start
time in /proc.  Python 3 standard library only.
"""
import http.client
import os
import re
import shutil
import signal
import statistics
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))   # bench/peers
SIZES = {"1k": 1024, "16k": 16384, "64k": 65536, "256k": 262144, "1m": 1048576,
         "16m": 16777216}
CLK_TCK = os.sysconf("SC_CLK_TCK")

LOG = None


def set_log(f):
    """Also append every log line to the open file f."""
    global LOG
    LOG = f


def log(*a):
    msg = " ".join(str(x) for x in a)
    line = time.strftime("%H:%M:%S ") + msg
    print(line, flush=True)
    if LOG:
        LOG.write(line + "\n")
        LOG.flush()


# ----------------------------------------------------------------------------- /proc helpers
def proc_stat(pid):
    with open(f"/proc/{pid}/stat") as f:
        s = f.read()
    rp = s.rfind(")")
    comm = s[s.find("(") + 1:rp]
    f = s[rp + 2:].split()
    return {"comm": comm, "state": f[0], "ppid": int(f[1]), "utime": int(f[11]),
            "stime": int(f[12]), "cutime": int(f[13]), "cstime": int(f[14]),
            "starttime": int(f[19])}


def all_procs():
    out = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                out[int(d)] = proc_stat(int(d))
            except (OSError, IndexError, ValueError):
                pass
    return out


def proc_tree(root):
    """PIDs of root and all its descendants (live, non-zombie)."""
    ps = all_procs()
    kids = {}
    for p, st in ps.items():
        kids.setdefault(st["ppid"], []).append(p)
    out, stack = [], [root]
    while stack:
        p = stack.pop()
        if p in ps and ps[p]["state"] != "Z":
            out.append(p)
            stack.extend(kids.get(p, []))
    return out, ps


def status_fields(pid):
    d = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                d[k] = v.strip()
    except OSError:
        pass
    return d


def kb(v):
    try:
        return int(v.split()[0])
    except (AttributeError, IndexError, ValueError):
        return 0


def cpu_list(spec):
    out = set()
    for part in spec.split(","):
        if "-" in part:
            a, b = part.split("-")
            out.update(range(int(a), int(b) + 1))
        elif part.strip():
            out.add(int(part))
    return out


def read_cpu_times():
    """{cpuN: (busy_ticks, total_ticks, steal_ticks)} from /proc/stat."""
    out = {}
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("cpu") and line[3].isdigit():
                p = line.split()
                v = [int(x) for x in p[1:9]]
                user, nice, system, idle, iowait, irq, softirq, steal = v
                busy = user + nice + system + irq + softirq + steal
                out[p[0]] = (busy, busy + idle + iowait, steal)
    return out


def cpu_snapshot():
    return {p: (st["starttime"], st["utime"] + st["stime"], st["ppid"])
            for p, st in all_procs().items()}


def foreign_ticks(s1, s2, ours):
    """CPU ticks used between two snapshots by user-space processes that are not ours
    (other jobs on the machine).  Kernel threads are left out."""
    tot = 0
    for p, (tick, t2, ppid) in s2.items():
        if p in ours or p == 2 or ppid == 2:
            continue
        a = s1.get(p)
        if a and a[0] == tick:
            tot += t2 - a[1]
    return tot


def cpu_util(before, after, name):
    b0, t0, s0 = before[name]
    b1, t1, s1 = after[name]
    dt = max(t1 - t0, 1)
    return 100.0 * (b1 - b0) / dt, 100.0 * (s1 - s0) / dt


# ----------------------------------------------------------------------------- HTTP helpers
def http_get(port, path, timeout=60.0):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("GET", path)
        r = c.getresponse()
        body = r.read()
        return r.status, r.getheaders(), len(body)
    finally:
        c.close()


def headers_text(hdrs):
    return "".join(f"{k}: {v}\n" for k, v in hdrs)


def generic_hit(hdrs):
    """Classify a response from the usual cache headers: 'hit', 'miss' or 'unknown'."""
    h = {k.lower(): v for k, v in hdrs}
    xc = h.get("x-cache", "").lower()
    if "hit" in xc:
        return "hit"
    if "miss" in xc:
        return "miss"
    if re.match(r"^\s*\d+\s+\d+", h.get("x-varnish", "")):
        return "hit"
    m = re.search(r"\[c([A-Z ])", h.get("via", ""))
    if m:
        return "hit" if m.group(1) in "HR" else "miss"
    try:
        if int(h.get("age", "0")) > 0:
            return "hit"
    except ValueError:
        pass
    return "unknown"


class Origin:
    def __init__(self, port, www, run_dir, cpus):
        self.port, self.www, self.run_dir, self.cpus = port, www, run_dir, cpus
        self.pid = None
        self.start_tick = None

    def env(self):
        e = dict(os.environ)
        e["BENCH_ORIGIN_CPUS"] = self.cpus
        return e

    def start(self):
        subprocess.run([os.path.join(ROOT, "origin.sh"), "gen", self.www], check=True)
        shutil.rmtree(self.run_dir, ignore_errors=True)
        subprocess.run([os.path.join(ROOT, "origin.sh"), "start", str(self.port), self.www,
                        self.run_dir], check=True, env=self.env())
        self.pid = int(open(os.path.join(self.run_dir, "pid")).read())
        self.start_tick = proc_stat(self.pid)["starttime"]
        wait_ready(self.port, "/health", 10)

    def counters(self):
        """(accepted connections, requests) served by the origin so far (stub_status; the
        probe itself adds one connection and one request)."""
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        c.request("GET", "/nginx_status")
        txt = c.getresponse().read().decode()
        c.close()
        f = txt.splitlines()[2].split()
        return int(f[0]), int(f[2])

    def requests(self):
        return self.counters()[1]

    def reval_statuses(self):
        """{status: count} of every /reval request the origin has answered so far (its
        reval.log has one line per request: the status alone)."""
        out = {}
        try:
            with open(os.path.join(self.run_dir, "reval.log")) as f:
                for line in f:
                    st = line.strip()
                    if st:
                        out[st] = out.get(st, 0) + 1
        except FileNotFoundError:
            pass
        return out

    def reval_settled(self, quiet=0.3, limit=5.0):
        """reval_statuses() once no new /reval request has come for `quiet` seconds (a
        proxy may revalidate in the background after answering, e.g. Varnish in grace), or
        after `limit` seconds."""
        deadline = time.monotonic() + limit
        last = self.reval_statuses()
        while time.monotonic() < deadline:
            time.sleep(quiet)
            cur = self.reval_statuses()
            if cur == last:
                break
            last = cur
        return last

    def pids(self):
        return proc_tree(self.pid)[0] if self.pid else []

    def stop(self):
        if self.pid and pid_is(self.pid, self.start_tick):
            subprocess.run([os.path.join(ROOT, "origin.sh"), "stop", self.run_dir])
            reap(self.pid)
        self.pid = None


def pid_is(pid, start_tick):
    """True if pid is still the live (non-zombie) process that started at start_tick."""
    reap(pid)
    try:
        st = proc_stat(pid)
        return st["starttime"] == start_tick and st["state"] != "Z"
    except (OSError, IndexError, ValueError):
        return False


def reap(pid):
    """Servers are orphaned by their adapter script and re-parented to us (child
    subreaper); collect their exit status so they do not linger as zombies."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def become_subreaper():
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(36, 1, 0, 0, 0)     # PR_SET_CHILD_SUBREAPER
    except Exception as e:            # not fatal: zombies are then PID 1's business
        log("note: could not become child subreaper:", e)


def wait_ready(port, path, timeout):
    """Poll GET path until 200; returns time.time_ns() of the first 200 or raises."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            st, _, _ = http_get(port, path, timeout=5)
            if st == 200:
                return time.time_ns()
            last = f"status {st}"
        except (OSError, http.client.HTTPException) as e:
            last = repr(e)
        time.sleep(0.005)
    raise RuntimeError(f"port {port}{path} not ready after {timeout}s: {last}")


# ----------------------------------------------------------------------------- targets
class Target:
    """A proxy under test (or the direct-nginx limit) driven through its adapter."""

    def __init__(self, name, adapter, port, base, args, env=None, limit=False):
        self.name, self.adapter, self.port, self.limit = name, adapter, port, limit
        self.run_dir = os.path.join(base, "px", name, "run")
        self.cache_dir = os.path.join(base, "px", name, "cache")
        self.origin = f"127.0.0.1:{args.origin_port}"
        self.env = dict(os.environ)
        self.env.update({"BENCH_CPUS": args.proxy_cpus, "BENCH_CACHE_MB": str(args.cache_mb),
                         "BENCH_RAM_MB": str(args.ram_mb), "BENCH_WWW": args.www})
        self.env.update(env or {})
        self.cpus = cpu_list(args.proxy_cpus)
        self.pid = None
        self.known = {}       # pid -> (starttime, comm) of every process seen in the tree
        self.hwm = {}         # pid -> max VmHWM kB seen
        self.start_samples = []
        self.warnings = []
        self.version = self.call("version", capture=True).strip() or "?"

    def call(self, cmd, *a, capture=False, check=True):
        p = subprocess.run([self.adapter, cmd, *map(str, a)], env=self.env, text=True,
                           stdout=subprocess.PIPE if capture else None)
        if check and p.returncode != 0:
            raise RuntimeError(f"{self.name}: adapter {cmd} failed rc={p.returncode}")
        return p.stdout if capture else p.returncode

    def wipe(self):
        for d in (self.run_dir, self.cache_dir):
            shutil.rmtree(d, ignore_errors=True)
            os.makedirs(d, exist_ok=True)

    def start(self, wipe=True):
        if wipe:
            self.wipe()
            self.call("init", self.port, self.origin, self.cache_dir, self.run_dir)
        else:
            os.makedirs(self.run_dir, exist_ok=True)
        for f in ("launch_ns", "pid"):
            try:
                os.unlink(os.path.join(self.run_dir, f))
            except FileNotFoundError:
                pass
        self.hwm = {}
        t_call = time.time_ns()
        self.call("start", self.port, self.origin, self.cache_dir, self.run_dir)
        self.pid = int(open(os.path.join(self.run_dir, "pid")).read())
        self.main_tick = proc_stat(self.pid)["starttime"]
        self.refresh()
        t_ready = wait_ready(self.port, "/health", 180)
        try:
            t0 = int(open(os.path.join(self.run_dir, "launch_ns")).read())
        except (OSError, ValueError):
            t0 = t_call
        self.refresh()
        return (t_ready - t0) / 1e6, (t_ready - t_call) / 1e6

    def refresh(self):
        """Record the live process tree (pids, start ticks, peak RSS) and return its pids."""
        if not self.pid:
            return []
        pids, ps = proc_tree(self.pid)
        for p in pids:
            self.known[p] = (ps[p]["starttime"], ps[p]["comm"])   # comm changes on exec
            h = kb(status_fields(p).get("VmHWM"))
            self.hwm[p] = max(self.hwm.get(p, 0), h)
        return pids

    def cpu_ticks(self):
        t = 0
        for p in self.refresh():
            try:
                st = proc_stat(p)
                t += st["utime"] + st["stime"]
            except OSError:
                pass
        return t

    def mem(self):
        """Current memory of the tree: sums of VmRSS / RssAnon / RssFile / RssShmem (kB)."""
        out = {"VmRSS": 0, "RssAnon": 0, "RssFile": 0, "RssShmem": 0, "threads": 0,
               "procs": 0}
        for p in self.refresh():
            s = status_fields(p)
            for k in ("VmRSS", "RssAnon", "RssFile", "RssShmem"):
                out[k] += kb(s.get(k))
            out["threads"] += int(s.get("Threads", "0") or 0)
            out["procs"] += 1
        return out

    def peak_rss_kb(self):
        self.refresh()
        return sum(self.hwm.values())

    def check_pinning(self):
        bad = []
        for p in self.refresh():
            try:
                tasks = os.listdir(f"/proc/{p}/task")
            except OSError:
                continue
            for t in tasks:
                s = status_fields(f"{p}/task/{t}")
                cl = s.get("Cpus_allowed_list")
                if cl and cpu_list(cl) != self.cpus:
                    bad.append((p, t, s.get("Name"), cl))
        if bad:
            msg = f"{self.name}: {len(bad)} threads not pinned to {sorted(self.cpus)} " \
                  f"(e.g. {bad[:3]}); re-pinning with taskset -a -p"
            log("WARNING", msg)
            self.warnings.append(msg)
            cl = ",".join(str(c) for c in sorted(self.cpus))
            for p in {b[0] for b in bad}:
                subprocess.run(["taskset", "-a", "-p", "-c", cl, str(p)],
                               stdout=subprocess.DEVNULL)
        return not bad

    def stop(self):
        if not self.pid:
            return
        self.refresh()
        if pid_is(self.pid, self.main_tick):
            self.call("stop", self.run_dir, check=False)
        # anything of ours still alive (checked by start tick): SIGKILL by PID
        deadline = time.monotonic() + 10
        while True:
            alive = [p for p, (tick, _) in self.known.items() if pid_is(p, tick)]
            if not alive or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        for p in alive:
            log(f"{self.name}: pid {p} still alive after stop; SIGKILL")
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.2)
        for p in self.known:
            reap(p)
        self.pid = None
        self.known = {}


# ----------------------------------------------------------------------------- report
def fmt(v, nd=1):
    if v is None:
        return "-"
    if isinstance(v, float) and nd == 0:
        return f"{v:,.0f}"
    return f"{v:,.{nd}f}" if isinstance(v, (int, float)) else str(v)


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None

