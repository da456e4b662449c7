"""Markdown report of the side-by-side benchmark, rendered from results.json alone (so
`bench.py --report` can re-render an old run)."""
from bench_proc import fmt, med


def build_report(results):
    """Render the Markdown report from a results dict (as saved in results.json)."""
    A = results["args"]
    L = []
    runs = results["runs"]
    targets = results.get("targets", [])
    tests = results.get("tests", [])
    reps = A["reps"]
    lim = next((t["name"] for t in targets if t["limit"]), None)
    L.append(f"# Caching-proxy baseline run {results['runid']}\n")
    L.append(f"host: {results['host']}  \nproxy CPUs: {A['proxy_cpus']}, wrk CPUs: "
             f"{A['client_cpus']}, origin CPUs: {A['origin_cpus']}  \nwrk -t1 -c{A['conc']} "
             f"-d{A['duration']}s keep-alive, {reps} reps (median; order rotated per "
             f"rep), warm-up {A['warmup']}s per target/test  \nraw: {results['outdir']}\n")
    L.append("Versions: " + "; ".join(f"{t['name']} = {t['version']}" for t in targets)
             + f"; wrk = {results['versions'].get('wrk', '?')}\n")

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

