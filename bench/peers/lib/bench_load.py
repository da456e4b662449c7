"""The measurements of the side-by-side benchmark: wrk runs, hit verification, the timed
load tests, the cold-fill and the restart test.  Every load run is time-bounded."""
import json
import os
import re
import signal
import subprocess
import time

from bench_proc import (CLK_TCK, ROOT, SIZES, cpu_snapshot, cpu_util, fmt, foreign_ticks,
                        generic_hit, headers_text, http_get, log, read_cpu_times)


# ----------------------------------------------------------------------------- wrk
def run_wrk(args, port, path, duration, raw_file=None, script="report.lua"):
    url = f"http://127.0.0.1:{port}{path}"
    cmd = ["taskset", "-c", args.client_cpus, "wrk", "-t1", f"-c{args.conc}",
           f"-d{duration}s", "--latency", "--timeout", f"{args.wrk_timeout}s",
           "-s", os.path.join(ROOT, "wrk", script), url]
    p = subprocess.run(cmd, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=duration + 60)
    if raw_file:
        with open(raw_file, "w") as f:
            f.write("$ " + " ".join(cmd) + "\n" + p.stdout)
    m = re.search(r"^BENCHJSON (\{.*\})$", p.stdout, re.M)
    if not m:
        raise RuntimeError(f"wrk produced no result for {url}:\n{p.stdout[-2000:]}")
    return json.loads(m.group(1))


def run_fill(args, port, prefix, raw_file):
    url = f"http://127.0.0.1:{port}"
    cmd = ["taskset", "-c", args.client_cpus, "wrk", "-t1", f"-c{args.fill_conc}",
           f"-d{args.fill_max}s", "--timeout", f"{args.wrk_timeout}s",
           "-s", os.path.join(ROOT, "wrk", "fill.lua"), url, "--", prefix, str(args.fill_n),
           f"/obj/{args.sizes[0]}"]
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out, res = [], None
    try:
        for line in p.stdout:
            out.append(line)
            if line.startswith("FILLDONE "):
                res = json.loads(line.split(" ", 1)[1])
                p.send_signal(signal.SIGINT)   # wrk's main thread would otherwise sleep to -d
        p.wait()
    except BaseException:
        p.kill()                              # our own wrk, by PID
        p.wait()
        raise
    wall = time.monotonic() - t0
    with open(raw_file, "w") as f:
        f.write("$ " + " ".join(cmd) + "\n" + "".join(out))
    if res is None:
        return {"n": 0, "elapsed_us": None, "bad": None, "wall_s": wall, "incomplete": True}
    res["wall_s"] = wall
    return res


# ----------------------------------------------------------------------------- phases
def verify_hits(args, origin, t, results):
    """Warm each object (2 GETs), then prove the 3rd GET is a hit: adapter hitcheck / headers
    AND zero origin requests during it.  Also prove /nostore/1k goes to the origin."""
    out = {}
    for size in args.sizes:
        path = f"/obj/{size}"
        for _ in range(2):
            st, _, n = http_get(t.port, path)
            if st != 200 or n != SIZES[size]:
                raise RuntimeError(f"{t.name}{path}: status {st}, {n} bytes")
        time.sleep(0.2)      # let asynchronous cache writes settle
        o1 = origin.requests()
        st, hdrs, n = http_get(t.port, path)
        o2 = origin.requests()
        hc = subprocess.run([t.adapter, "hitcheck"], input=headers_text(hdrs), text=True,
                            env=t.env, stdout=subprocess.DEVNULL).returncode
        hdr_verdict = {0: "hit", 1: "miss"}.get(hc, generic_hit(hdrs))
        origin_delta = o2 - o1 - 1
        ok = st == 200 and n == SIZES[size] and origin_delta == 0 and hdr_verdict != "miss"
        keep = [f"{k}: {v}" for k, v in hdrs if k.lower() in
                ("x-cache", "x-cache-lookup", "age", "via", "x-varnish")]
        out[size] = {"ok": ok, "header_verdict": hdr_verdict, "origin_delta": origin_delta,
                     "headers": keep}
        log(f"  verify {t.name:10s} {path:10s} {'HIT' if ok else 'NOT A HIT'}"
            f" (headers: {hdr_verdict}; origin requests: {origin_delta}) {' | '.join(keep)}")
        if not ok and not t.limit:
            t.warnings.append(f"{path} not verified as a cache hit: {out[size]}")
    if not t.limit and args.miss:
        o1 = origin.requests()
        st, hdrs, n = http_get(t.port, "/nostore/1k")
        st2, hdrs2, n2 = http_get(t.port, "/nostore/1k")
        o2 = origin.requests()
        d = o2 - o1 - 1
        keep = [f"{k}: {v}" for k, v in hdrs2 if k.lower() in
                ("x-cache", "age", "via", "x-varnish")]
        out["nostore"] = {"ok": d == 2, "origin_delta": d, "headers": keep}
        log(f"  verify {t.name:10s} /nostore/1k x2 -> origin requests {d} (expect 2) "
            f"{' | '.join(keep)}")
        if d != 2:
            t.warnings.append(f"/nostore/1k: origin saw {d} requests for 2 GETs")
    results["verify"][t.name] = out
    t.cached_at = time.monotonic()


def measure(args, origin, targets, tests, results, rawdir):
    for test in tests:
        name, path, tlist = test["name"], test["path"], test["targets"]
        if not tlist:
            continue
        log(f"== {name} ({path}) targets: {', '.join(t.name for t in tlist)}")
        script = test.get("script", "report.lua")
        for t in tlist:                                   # warm-up, not recorded
            if args.warmup > 0:
                run_wrk(args, t.port, path, args.warmup, script=script)
        for rep in range(args.reps):
            order = tlist[rep % len(tlist):] + tlist[:rep % len(tlist)]   # rotate order
            ours = {os.getpid(), *origin.pids()}
            for x in targets:
                ours.update(x.refresh())
            for t in order:
                oa1, o1 = origin.counters()
                snap1 = cpu_snapshot()
                c1 = read_cpu_times()
                p1 = t.cpu_ticks()
                raw = os.path.join(rawdir, f"{name}.{t.name}.rep{rep + 1}.txt")
                w = run_wrk(args, t.port, path, args.duration, raw, script=script)
                p2 = t.cpu_ticks()
                c2 = read_cpu_times()
                snap2 = cpu_snapshot()
                oa2, o2 = origin.counters()
                dur = w["duration_us"] / 1e6
                rps = w["requests"] / dur
                u0, s0 = cpu_util(c1, c2, "cpu0")
                u1, s1 = cpu_util(c1, c2, "cpu1")
                errs = sum(w[k] for k in ("err_connect", "err_read", "err_write",
                                          "err_status", "err_timeout"))
                r = {"test": name, "target": t.name, "rep": rep + 1, "rps": rps,
                     "body_mib_s": rps * test["size"] / 1048576,
                     "wire_mib_s": w["bytes"] / dur / 1048576,
                     "p50_ms": w["lat_p50_us"] / 1000, "p90_ms": w["lat_p90_us"] / 1000,
                     "p99_ms": w["lat_p99_us"] / 1000, "p999_ms": w["lat_p999_us"] / 1000,
                     "max_ms": w["lat_max_us"] / 1000,
                     "proxy_cpu_pct": 100.0 * (p2 - p1) / CLK_TCK / dur,
                     "cpu_us_per_req": (1e6 * (p2 - p1) / CLK_TCK / w["requests"]
                                        if w["requests"] else None),
                     "cpu0_pct": u0, "cpu1_pct": u1, "steal_pct": (s0 + s1) / 2,
                     "foreign_cpu_pct": 100.0 * foreign_ticks(snap1, snap2, ours) / CLK_TCK / dur,
                     "origin_reqs": o2 - o1 - 1, "origin_conns": oa2 - oa1 - 1,
                     "errors": errs, "requests": w["requests"], "wrk": w}
                results["runs"].append(r)
                log(f"  {name:8s} {t.name:10s} rep{rep + 1} {rps:10.0f} req/s "
                    f"{r['body_mib_s']:8.1f} MiB/s p50 {r['p50_ms']:7.2f} ms "
                    f"p99 {r['p99_ms']:7.2f} ms cpu {fmt(r['cpu_us_per_req'], 1)} us/req "
                    f"proxy {r['proxy_cpu_pct']:5.1f}% CPU0 {u0:5.1f}% CPU1 {u1:5.1f}% "
                    f"foreign {r['foreign_cpu_pct']:4.1f}% origin {r['origin_reqs']} req/"
                    f"{r['origin_conns']} conn err {errs}")
                if errs:
                    t.warnings.append(f"{name} rep{rep + 1}: {errs} wrk errors")
            for t in tlist:
                t.refresh()


def fill_test(args, origin, targets, results, rawdir, runid):
    log(f"== fill: {args.fill_n} distinct 16 KB objects, miss pass then hit pass, "
        f"wrk -c{args.fill_conc}")
    for rep in range(args.reps):
        for t in targets:
            prefix = f"/fill/{runid}-r{rep + 1}/"
            row = {"target": t.name, "rep": rep + 1}
            for phase in ("miss", "hit"):
                o1 = origin.requests()
                p1 = t.cpu_ticks()
                res = run_fill(args, t.port, prefix,
                               os.path.join(rawdir, f"fill.{t.name}.rep{rep + 1}.{phase}.txt"))
                p2 = t.cpu_ticks()
                o2 = origin.requests()
                el = res.get("elapsed_us")
                row[phase] = {"elapsed_s": el / 1e6 if el else None,
                              "rps": res["n"] / (el / 1e6) if el else None,
                              "origin_reqs": o2 - o1 - 1, "bad": res.get("bad"),
                              "cpu_us_per_req": (1e6 * (p2 - p1) / CLK_TCK / res["n"]
                                                 if res["n"] else None),
                              "incomplete": res.get("incomplete", False)}
                time.sleep(0.5)
            results["fill"].append(row)
            m, h = row["miss"], row["hit"]
            log(f"  fill {t.name:10s} rep{rep + 1} miss-pass {fmt(m['elapsed_s'], 3)} s "
                f"({fmt(m['rps'], 0)} req/s, origin {m['origin_reqs']}) hit-pass "
                f"{fmt(h['elapsed_s'], 3)} s ({fmt(h['rps'], 0)} req/s, origin "
                f"{h['origin_reqs']})")


def restart_test(args, origin, targets, results, runid):
    """Stop each target, start it again on its populated cache, time the first 200, then
    probe previously cached objects (a different one each 50 ms, so a miss re-caches only
    that object) until one is served without an origin request: first old-cache hit."""
    probes = [f"/obj/{s}" for s in args.sizes]
    if args.fill:
        probes += [f"/fill/{runid}-r1/{i}" for i in range(1, args.fill_n + 1)]
    for t in targets:
        t.stop()
        time.sleep(0.5)
        ms, _ = t.start(wipe=False)
        try:
            t0 = int(open(os.path.join(t.run_dir, "launch_ns")).read())
        except (OSError, ValueError):
            t0 = None
        first_hit, tries = None, 0
        if not t.limit:
            deadline = time.monotonic() + args.restart_wait
            for path in probes:
                if time.monotonic() > deadline:
                    break
                tries += 1
                o1 = origin.requests()
                st, _, _ = http_get(t.port, path)
                o2 = origin.requests()
                if st == 200 and o2 - o1 - 1 == 0:
                    first_hit = (time.time_ns() - t0) / 1e6 if t0 else -1
                    break
                time.sleep(0.05)
        hit = "n/a" if t.limit else (fmt(first_hit, 0) if first_hit is not None
                                     else f"none in {args.restart_wait} s")
        results["restart"][t.name] = {"ms": ms, "hit": hit, "first_hit_ms": first_hit,
                                      "probes": tries}
        log(f"restart {t.name:10s}: first 200 after {ms:8.1f} ms; first hit from the old "
            f"cache: {hit} ({tries} probes)")

