"""Markdown report of the side-by-side benchmark, rendered from results.json alone (so
`bench.py --report` can re-render an old run)."""
from bench_proc import fmt, med

MIB = 1048576


def series(results):
    """Every test that can be compared across targets, in report order, as
    (test, metric name, {target: {rep: metric}}, {target: [CPU us per request]}).
    The metric is req/s, MiB/s for the hit tests of objects >= 1 MiB (where throughput is
    the point), objects/s for the fill and revalidation passes."""
    out = []
    runs = results["runs"]
    for test in results.get("tests", []):
        big = test["size"] >= MIB
        key, metric = ("body_mib_s", "MiB/s") if big else ("rps", "req/s")
        v, cpu = {}, {}
        for r in runs:
            if r["test"] == test["name"]:
                v.setdefault(r["target"], {})[r["rep"]] = r[key]
                cpu.setdefault(r["target"], []).append(r["cpu_us_per_req"])
        out.append((test["name"], metric, v, cpu))
    for phase in ("miss", "hit"):
        v, cpu = {}, {}
        for r in results.get("fill", []):
            v.setdefault(r["target"], {})[r["rep"]] = r[phase]["rps"]
            cpu.setdefault(r["target"], []).append(r[phase]["cpu_us_per_req"])
        if v:
            out.append((f"fill-{phase}", "objects/s", v, cpu))
    v, cpu = {}, {}
    for r in results.get("reval", []):
        v.setdefault(r["target"], {})[r["rep"]] = r["rps"]
        cpu.setdefault(r["target"], []).append(r["cpu_us_per_req"])
    if v:
        out.append(("reval-16k", "objects/s", v, cpu))
    return out


def same_round_ratio(v, a, b):
    """Median over the reps of v[a][rep] / v[b][rep] (both measured in the same round)."""
    va, vb = v.get(a, {}), v.get(b, {})
    return med([va[r] / vb[r] for r in va if r in vb and va[r] and vb[r]])


def ratio_section(results):
    """The primary target against every other one: per test, its median and the same-run
    ratios (>1 = the primary is faster), then CPU per request and RSS of every target."""
    targets = results.get("targets", [])
    prim = results["args"].get("primary")
    names = [t["name"] for t in targets]
    if prim not in names:
        return [f"(no ratio table: the primary target {prim!r} did not run)\n"] if prim else []
    lim = [t["name"] for t in targets if t["limit"]]
    others = [n for n in names if n != prim and n not in lim] + lim
    order = [prim] + [n for n in names if n != prim]
    S = series(results)
    if not S:
        return []
    L = [f"## {prim} against the others\n",
         f"{prim}'s median, then {prim} / target: the median over the reps of the ratio of "
         "the two measured in the same round (> 1 = {prim} is faster).  MiB/s for the hit "
         "tests of >= 1 MiB objects, objects/s for the fill and revalidation passes; for "
         "the limit (nginx serving the files itself) the miss, fill and reval rows are a "
         "reference only (it never goes to the origin).\n".replace("{prim}", prim)]
    L.append(f"| test | metric | {prim} | " + " | ".join(f"/ {n}" for n in others) + " |")
    L.append("|---|---|---:|" + "---:|" * len(others))
    for test, metric, v, _ in S:
        if prim not in v:
            continue
        cells = [fmt(same_round_ratio(v, prim, n), 2) + "x" if n in v else "" for n in others]
        cells = [c if c != "-x" else "-" for c in cells]
        L.append(f"| {test} | {metric} | {fmt(med(list(v[prim].values())), 0)} | "
                 + " | ".join(cells) + " |")
    L.append("")
    L.append("CPU of the target's processes per request (us, median of the reps; for the "
             "fill and reval passes per object):\n")
    L.append("| test | " + " | ".join(order) + " |")
    L.append("|---|" + "---:|" * len(order))
    for test, _, _, cpu in S:
        L.append(f"| {test} | " + " | ".join(fmt(med(cpu.get(n, [])), 1) for n in order)
                 + " |")
    mem = results.get("memory", {})
    L.append("")
    L.append("| RSS MiB | " + " | ".join(order) + " |")
    L.append("|---|" + "---:|" * len(order))
    L.append("| after start | " + " | ".join(
        fmt(mem.get(n, {}).get("start", {}).get("VmRSS", 0) / 1024, 1) for n in order) + " |")
    L.append("| peak (sum of VmHWM) | " + " | ".join(
        fmt(mem.get(n, {}).get("peak_kb", 0) / 1024, 1) for n in order) + " |")
    L.append("")
    return L


def disk_section(results, names):
    A = results["args"]
    fills = results.get("disk_fill", {})
    if not fills:
        return []
    runs = [r for r in results["runs"] if r["test"] == "disk-64k"]
    L = [f"## Disk hits: {A['disk_n']} distinct 64 KB objects ({A['disk_set_mb']} MiB; RAM "
         f"caches {A['ram_mb']} MiB)\n",
         "fill = every object requested once (wrk -c%d); then %d x %d s of wrk -c%d asking for "
         "objects of the set uniformly at random.  origin reqs = what the origin saw during "
         "one measured run (should be ~0: every object is stored).  The OS page cache is not "
         "dropped: objects outside a proxy's own RAM cache come from its disk path (syscalls, "
         "I/O threads, copies), mostly out of the page cache.\n"
         % (A["fill_conc"], A["reps"], A["duration"], A["conc"]),
         "| target | fill s | fill obj/s | fill origin reqs | req/s | MiB/s | p50 ms | "
         "p99 ms | CPU us/req | origin reqs (median / max) | errors |",
         "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for n in names:
        f = fills.get(n)
        rr = [r for r in runs if r["target"] == n]
        if not f and not rr:
            continue
        f = f or {}
        g = lambda k: med([r[k] for r in rr])
        orq = [r["origin_reqs"] for r in rr]
        L.append(f"| {n} | {fmt(f.get('elapsed_s'), 3)} | {fmt(f.get('rps'), 0)} | "
                 f"{fmt(f.get('origin_reqs'), 0)} | {fmt(g('rps'), 0)} | "
                 f"{fmt(g('body_mib_s'), 1)} | {fmt(g('p50_ms'), 2)} | {fmt(g('p99_ms'), 2)} | "
                 f"{fmt(g('cpu_us_per_req'), 1)} | {fmt(med(orq), 0)} / "
                 f"{fmt(max(orq) if orq else None, 0)} | {sum(r['errors'] for r in rr)} |")
    L.append("")
    return L


def reval_section(results, names):
    A = results["args"]
    rows = results.get("reval", [])
    if not rows:
        return []
    L = [f"## Revalidation: {A['reval_n']} stale 16 KB objects, wrk -c{A['reval_conc']}, "
         f"median of {A['reps']}\n",
         f"prime = each URL once (Cache-Control: max-age=1); {A['reval_sleep']:g} s later "
         "every object is stale and the timed pass asks for each once more (time from the "
         "first request to the N-th response).  Origin 304 / 200 = how the origin answered "
         "during the timed pass, including revalidations a proxy makes in the background "
         "after answering (counted until the origin has been quiet for 0.3 s); N 304s = "
         "every object revalidated.  CPU per object includes that background work.\n",
         "| target | prime s | stale pass s | objects/s | p50 ms | p99 ms | CPU us/obj | "
         "origin 304 | origin 200 | origin other | bad |",
         "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for n in names:
        rr = [r for r in rows if r["target"] == n]
        if not rr:
            continue
        g = lambda k: med([r[k] for r in rr])
        L.append(f"| {n} | {fmt(g('prime_s'), 3)} | {fmt(g('elapsed_s'), 3)} | "
                 f"{fmt(g('rps'), 0)} | {fmt(g('p50_ms'), 2)} | {fmt(g('p99_ms'), 2)} | "
                 f"{fmt(g('cpu_us_per_req'), 1)} | {fmt(g('origin_304'), 0)} | "
                 f"{fmt(g('origin_200'), 0)} | {fmt(g('origin_other'), 0)} | "
                 f"{sum(r['bad'] or 0 for r in rr)} |")
    L.append("")
    return L


def build_report(results):
    """Render the Markdown report from a results dict (as saved in results.json)."""
    A = results["args"]
    L = []
    runs = results["runs"]
    targets = results.get("targets", [])
    tests = results.get("tests", [])
    reps = A["reps"]
    lim = next((t["name"] for t in targets if t["limit"]), None)
    L.append(f"# Caching-proxy side-by-side run {results['runid']}\n")
    L.append(f"host: {results['host']}  \nproxy CPUs: {A['proxy_cpus']}, wrk CPUs: "
             f"{A['client_cpus']}, origin CPUs: {A['origin_cpus']}  \nwrk -t1 -c{A['conc']} "
             f"-d{A['duration']}s keep-alive, {reps} reps (median; order rotated per "
             f"rep), warm-up {A['warmup']}s per target/test  \nraw: {results['outdir']}\n")
    L.append("Versions: " + "; ".join(f"{t['name']} = {t['version']}" for t in targets)
             + f"; wrk = {results['versions'].get('wrk', '?')}\n")
    L.extend(ratio_section(results))

    def vals(test, tname, key):
        return [r[key] for r in runs if r["test"] == test and r["target"] == tname]

    def cell(test, tname, key):
        return med(vals(test, tname, key))

    def ratio(test, tname, ref):
        """median over reps of (target / ref) within the same rep (same round)."""
        rs = []
        for rep in range(1, reps + 1):
            a = [r["rps"] for r in runs if r["test"] == test and r["target"] == tname
                 and r["rep"] == rep]
            b = [r["rps"] for r in runs if r["test"] == test and r["target"] == ref
                 and r["rep"] == rep]
            if a and b and b[0]:
                rs.append(a[0] / b[0])
        return med(rs)

    names = [t["name"] for t in targets]
    if runs:
        L.append(f"## Throughput, req/s (median of {reps}) and ratio to the direct-nginx limit "
                 "(median of per-round ratios)\n")
        L.append("| test | " + " | ".join(names) + " |")
        L.append("|---|" + "---:|" * len(names))
        for test in tests:
            tn = test["targets"]
            if not tn:
                continue
            cells = []
            for n in names:
                if n not in tn:
                    cells.append("")
                    continue
                s_ = fmt(cell(test["name"], n, "rps"), 0)
                if lim and n != lim and lim in tn:
                    s_ += f" ({fmt(ratio(test['name'], n, lim), 2)}x)"
                cells.append(s_)
            L.append(f"| {test['name']} | " + " | ".join(cells) + " |")
        L.append("")
        L.append("## Detail (medians of the reps)\n")
        L.append("range = min-max req/s over the reps.  bound: CPU0 = proxy core saturated "
                 "(proxy CPU >= 85%), CPU1 = wrk(+origin) core saturated (>= 90%), both, or "
                 "'-' (neither: latency/lock/IO bound).  foreign = CPU used by other users' "
                 "processes during the run, % of one core.  origin reqs / conns = requests "
                 "and new connections the origin saw during one run.\n")
        L.append("| test | target | req/s | range | x limit | body MiB/s | p50 ms | p99 ms | "
                 "proxy CPU us/req | proxy CPU % | CPU0 % | CPU1 % | bound | foreign % | "
                 "origin reqs / conns | errors |")
        L.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|")
        for test in tests:
            for n in test["targets"]:
                tn = test["name"]
                rx = ratio(tn, n, lim) if (lim and n != lim and lim in test["targets"]) else None
                rr = vals(tn, n, "rps")
                errs = vals(tn, n, "errors")
                pc, c1 = cell(tn, n, "proxy_cpu_pct"), cell(tn, n, "cpu1_pct")
                bound = "-"
                if pc is not None and c1 is not None:
                    bound = {(True, True): "both", (True, False): "CPU0",
                             (False, True): "CPU1", (False, False): "-"}[(pc >= 85, c1 >= 90)]
                L.append(f"| {tn} | {n} | {fmt(cell(tn, n, 'rps'), 0)} | "
                         f"{fmt(min(rr) if rr else None, 0)}-{fmt(max(rr) if rr else None, 0)} | "
                         f"{fmt(rx, 2)} | "
                         f"{fmt(cell(tn, n, 'body_mib_s'), 1)} | {fmt(cell(tn, n, 'p50_ms'), 2)} | "
                         f"{fmt(cell(tn, n, 'p99_ms'), 2)} | "
                         f"{fmt(cell(tn, n, 'cpu_us_per_req'), 1)} | "
                         f"{fmt(cell(tn, n, 'proxy_cpu_pct'), 0)} | "
                         f"{fmt(cell(tn, n, 'cpu0_pct'), 0)} | {fmt(c1, 0)} | "
                         f"{bound} | {fmt(cell(tn, n, 'foreign_cpu_pct'), 0)} | "
                         f"{fmt(cell(tn, n, 'origin_reqs'), 0)} / "
                         f"{fmt(cell(tn, n, 'origin_conns'), 0)} | "
                         f"{sum(errs) if errs else '-'} |")
        L.append("")
    if results["fill"]:
        L.append(f"## Cold fill: {A['fill_n']} distinct 16 KB objects (wrk -c{A['fill_conc']}),"
                 f" median of {reps}\n")
        L.append("miss pass = each URL requested once (miss + store); hit pass = the same URLs "
                 "again.  Time from the first request to the N-th 16 KB response.\n")
        L.append("| target | miss pass s | miss req/s | miss CPU us/req | origin reqs (miss) | "
                 "hit pass s | hit req/s | hit CPU us/req | origin reqs (hit) |")
        L.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for n in names:
            rows = [r for r in results["fill"] if r["target"] == n]
            if not rows:
                continue
            g = lambda ph, k: med([r[ph][k] for r in rows])
            L.append(f"| {n} | {fmt(g('miss', 'elapsed_s'), 3)} | {fmt(g('miss', 'rps'), 0)} | "
                     f"{fmt(g('miss', 'cpu_us_per_req'), 1)} | {fmt(g('miss', 'origin_reqs'), 0)} | "
                     f"{fmt(g('hit', 'elapsed_s'), 3)} | {fmt(g('hit', 'rps'), 0)} | "
                     f"{fmt(g('hit', 'cpu_us_per_req'), 1)} | {fmt(g('hit', 'origin_reqs'), 0)} |")
        L.append("")
    L.extend(disk_section(results, names))
    L.extend(reval_section(results, names))
    L.append("## Start time and memory\n")
    L.append("start = launch -> first 200 for /health through the proxy, empty cache.  RSS = "
             "sum over the target's processes; peak = sum of per-process VmHWM over the whole "
             "run.  restart = stop, start on the populated cache: time to first 200, then time "
             "until a previously cached object is served without an origin request.\n")
    L.append("| target | start ms (median) | start samples ms | procs/threads | RSS after start MiB |"
             " RSS after hit tests MiB | peak RSS MiB | end RSS anon/file/shmem MiB |"
             " restart: first 200 ms | restart: first old-cache hit ms |")
    L.append("|---|---:|---|---|---:|---:|---:|---|---:|---:|")
    for t in targets:
        m = results["memory"].get(t["name"], {})
        rs = results["restart"].get(t["name"], {})
        e = m.get("end", {})
        st_ = m.get("start", {})
        ss = t.get("start_samples", [])
        L.append(f"| {t['name']} | {fmt(med(ss), 0)} | "
                 f"{', '.join(fmt(x, 0) for x in ss)} | "
                 f"{st_.get('procs', '-')}/{st_.get('threads', '-')} | "
                 f"{fmt(st_.get('VmRSS', 0) / 1024, 1)} | "
                 f"{fmt(m.get('after_hits', {}).get('VmRSS', 0) / 1024, 1)} | "
                 f"{fmt(m.get('peak_kb', 0) / 1024, 1)} | "
                 f"{fmt(e.get('RssAnon', 0) / 1024, 0)}/{fmt(e.get('RssFile', 0) / 1024, 0)}/"
                 f"{fmt(e.get('RssShmem', 0) / 1024, 0)} | {fmt(rs.get('ms'), 0)} | "
                 f"{rs.get('hit', '-')} |")
    L.append("")
    warn = [f"- {t['name']}: {w}" for t in targets for w in t.get("warnings", [])]
    if warn:
        L.append("## Warnings\n")
        L.extend(warn)
        L.append("")
    return "\n".join(L)

