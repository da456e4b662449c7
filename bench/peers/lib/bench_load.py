"""The measurements of the side-by-side benchmark: wrk runs, hit verification, the timed
load tests, the cold-fill and the restart test.  Every load run is time-bounded."""
import itertools
import json
import os
import re
import signal
import subprocess
import time

from bench_proc import (CLK_TCK, ROOT, SIZES, cpu_snapshot, cpu_util, fmt, foreign_ticks,
                        generic_hit, headers_text, http_get, log, read_cpu_times)


# ----------------------------------------------------------------------------- wrk
def run_wrk(args, port, path, duration, raw_file=None, script="report.lua", script_args=(), conc=None):
    url = f"http://127.0.0.1:{port}{path}"
    cmd = ["taskset", "-c", args.client_cpus, "wrk", "-t1", f"-c{conc or args.conc}",
           f"-d{duration}s", "--latency", "--timeout", f"{args.wrk_timeout}s",
           "-s", os.path.join(ROOT, "wrk", script), url]
    if script_args:
        cmd += ["--", *map(str, script_args)]
    p = subprocess.run(cmd, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=duration + 60)
    if raw_file:
        with open(raw_file, "w") as f:
            f.write("$ " + " ".join(cmd) + "\n" + p.stdout)
    m = re.search(r"^BENCHJSON (\{.*\})$", p.stdout, re.M)
    if not m:
        raise RuntimeError(f"wrk produced no result for {url}:\n{p.stdout[-2000:]}")
    return json.loads(m.group(1))


def filler_path(args, size):
    """A cached object of another length than `size`, for fill.lua's idle connections."""
    for s in args.sizes:
        if SIZES[s] != size:
            return f"/obj/{s}"
    return "/health"


def run_fill(args, port, prefix, n, raw_file, size=16384, conc=None):
    """One fill.lua pass: prefix1 .. prefixN once each.  Returns FILLDONE's fields (n,
    elapsed_us, bad, sent) plus wall_s and, from wrk's summary, `lat` (BENCHJSON)."""
    url = f"http://127.0.0.1:{port}"
    cmd = ["taskset", "-c", args.client_cpus, "wrk", "-t1", f"-c{conc or args.fill_conc}",
           f"-d{args.fill_max}s", "--timeout", f"{args.wrk_timeout}s",
           "-s", os.path.join(ROOT, "wrk", "fill.lua"), url, "--", prefix, str(n),
           filler_path(args, size), str(size)]
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out, res, lat = [], None, None
    try:
        for line in p.stdout:
            out.append(line)
            if line.startswith("FILLDONE "):
                res = json.loads(line.split(" ", 1)[1])
                p.send_signal(signal.SIGINT)   # wrk's main thread would otherwise sleep to -d
            elif line.startswith("BENCHJSON "):
                lat = json.loads(line.split(" ", 1)[1])
        p.wait()
    except BaseException:
        p.kill()                              # our own wrk, by PID
        p.wait()
        raise
    wall = time.monotonic() - t0
    with open(raw_file, "w") as f:
        f.write("$ " + " ".join(cmd) + "\n" + "".join(out))
    if res is None:
        return {"n": 0, "elapsed_us": None, "bad": None, "wall_s": wall, "incomplete": True,
                "lat": lat}
    res["wall_s"] = wall
    res["lat"] = lat
    return res


def lat_ms(res, key):
    """A latency field of run_fill's wrk summary in ms, or None."""
    lat = res.get("lat") or {}
    return lat[key] / 1000 if key in lat else None


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
                ("x-cache", "x-cache-lookup", "cache-status", "age", "via", "x-varnish")]
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
                ("x-cache", "cache-status", "age", "via", "x-varnish")]
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
        sargs = test.get("script_args", ())
        conc = test.get("conc")
        for t in tlist:                                   # warm-up, not recorded
            if args.warmup > 0:
                run_wrk(args, t.port, path, args.warmup, script=script, script_args=sargs, conc=conc)
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
                w = run_wrk(args, t.port, path, args.duration, raw, script=script,
                            script_args=sargs, conc=conc)
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
                res = run_fill(args, t.port, prefix, args.fill_n,
                               os.path.join(rawdir, f"fill.{t.name}.rep{rep + 1}.{phase}.txt"))
                p2 = t.cpu_ticks()
                o2 = origin.requests()
                el = res.get("elapsed_us")
                row[phase] = {"elapsed_s": el / 1e6 if el else None,
                              "rps": res["n"] / (el / 1e6) if el else None,
                              "origin_reqs": o2 - o1 - 1, "bad": res.get("bad"),
                              "cpu_us_per_req": (1e6 * (p2 - p1) / CLK_TCK / res["n"]
                                                 if res["n"] else None),
                              "p50_ms": lat_ms(res, "lat_p50_us"),
                              "p99_ms": lat_ms(res, "lat_p99_us"),
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
    that object) until one is served without an origin request: first old-cache hit.
    The probes take turns between /obj/* (stored first, long synced, but overwritten when
    a cyclic cache like ATS's or Strata's wrapped around, or evicted by LRU), the last fill
    pass and the disk set (last stored first), so one group that is gone costs a probe
    (50 ms) per turn, not the whole wait."""
    groups = [[f"/obj/{s}" for s in args.sizes]]
    if args.fill:
        groups.append([f"/fill/{runid}-r{args.reps}/{i}" for i in range(1, args.fill_n + 1)])
    if args.disk:
        groups.append([f"/disk/{runid}/{i}" for i in range(args.disk_n, 0, -1)])
    probes = [p for turn in itertools.zip_longest(*groups) for p in turn if p]
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



# ----------------------------------------------------------------------------- disk hits
def disk_test_spec(args, runid, targets):
    """The measured part of the disk-hit test, run by measure(): uniformly random requests
    over the disk set filled by disk_fill()."""
    return {"name": "disk-64k", "path": f"/disk/{runid}/", "size": SIZES["64k"],
            "targets": targets, "script": "random.lua", "script_args": [args.disk_n]}


def disk_fill(args, origin, targets, results, rawdir, runid):
    """Store the disk set in every target once: /disk/<runid>/1..N, 64 KB each, N * 64 KB =
    --disk-set-mb, more than the RAM caches (--ram-mb)."""
    n = args.disk_n
    log(f"== disk: fill {n} distinct 64 KB objects ({n * 64 / 1024:,.0f} MiB; RAM caches "
        f"{args.ram_mb} MiB) per target, wrk -c{args.fill_conc}")
    for t in targets:
        o1 = origin.requests()
        p1 = t.cpu_ticks()
        res = run_fill(args, t.port, f"/disk/{runid}/", n,
                       os.path.join(rawdir, f"disk-fill.{t.name}.txt"), size=SIZES["64k"])
        p2 = t.cpu_ticks()
        o2 = origin.requests()
        el = res.get("elapsed_us")
        row = {"n": n, "elapsed_s": el / 1e6 if el else None,
               "rps": res["n"] / (el / 1e6) if el else None, "bad": res.get("bad"),
               "origin_reqs": o2 - o1 - 1,
               "cpu_us_per_req": 1e6 * (p2 - p1) / CLK_TCK / res["n"] if res["n"] else None,
               "incomplete": res.get("incomplete", False)}
        results["disk_fill"][t.name] = row
        log(f"  disk-fill {t.name:10s} {fmt(row['elapsed_s'], 3)} s ({fmt(row['rps'], 0)} "
            f"obj/s, origin {row['origin_reqs']}, bad {row['bad']})")
        if row["incomplete"] or row["bad"]:
            t.warnings.append(f"disk fill: incomplete={row['incomplete']} bad={row['bad']}")
        time.sleep(1)      # let asynchronous cache writes settle before the next one


# ----------------------------------------------------------------------------- revalidation
def verify_reval(args, origin, targets, results, runid):
    """Prove that each proxy revalidates: GET /reval/verify-<runid>/<name> (stored with
    max-age=1), wait until it is stale, GET it again: the origin must answer one 304 (seen
    in its reval.log), possibly after the response (background revalidation)."""
    proxies = [t for t in targets if not t.limit]
    path = lambda t: f"/reval/verify-{runid}/{t.name}"
    for t in proxies:
        http_get(t.port, path(t))
    time.sleep(args.reval_sleep + 0.2)
    for t in proxies:
        s1 = origin.reval_settled()
        st, hdrs, n = http_get(t.port, path(t))
        s2 = origin.reval_settled()
        d = {k: s2.get(k, 0) - s1.get(k, 0) for k in s2 if s2.get(k, 0) != s1.get(k, 0)}
        ok = st == 200 and n == SIZES["16k"] and d == {"304": 1}
        keep = [f"{k}: {v}" for k, v in hdrs if k.lower() in
                ("x-cache", "cache-status", "age", "via", "x-varnish")]
        results["verify"].setdefault(t.name, {})["reval"] = {"ok": ok, "origin": d,
                                                             "headers": keep}
        log(f"  verify {t.name:10s} {path(t)} stale -> origin answered {d or 'nothing'} "
            f"({'revalidated' if ok else 'NOT a single 304'}) {' | '.join(keep)}")
        if not ok:
            t.warnings.append(f"stale {path(t)}: origin answered {d} (expected one 304)")


def reval_test(args, origin, targets, results, rawdir, runid):
    """Per rep and target: prime /reval/<runid>-r<rep>/1..N (max-age=1), sleep until all are
    stale, then time a pass requesting each once more over --reval-conc connections.  The
    origin's reval.log tells how many of those it answered with 304 (revalidated) or 200."""
    log(f"== reval: {args.reval_n} stale 16 KB objects (max-age=1, {args.reval_sleep} s "
        f"after priming), wrk -c{args.reval_conc}")
    for rep in range(args.reps):
        order = targets[rep % len(targets):] + targets[:rep % len(targets)]
        for t in order:
            prefix = f"/reval/{runid}-r{rep + 1}/"
            raw = lambda ph: os.path.join(rawdir, f"reval.{t.name}.rep{rep + 1}.{ph}.txt")
            s0 = origin.reval_statuses()
            prime = run_fill(args, t.port, prefix, args.reval_n, raw("prime"))
            time.sleep(args.reval_sleep)
            s1 = origin.reval_settled()
            o1 = origin.requests()
            p1 = t.cpu_ticks()
            res = run_fill(args, t.port, prefix, args.reval_n, raw("timed"),
                           conc=args.reval_conc)
            s2 = origin.reval_settled()       # background revalidations count too
            p2 = t.cpu_ticks()
            o2 = origin.requests()
            el, pel = res.get("elapsed_us"), prime.get("elapsed_us")
            delta = {k: s2.get(k, 0) - s1.get(k, 0) for k in set(s1) | set(s2)}
            row = {"target": t.name, "rep": rep + 1,
                   "prime_s": pel / 1e6 if pel else None,
                   "prime_200": s1.get("200", 0) - s0.get("200", 0),
                   "elapsed_s": el / 1e6 if el else None,
                   "rps": res["n"] / (el / 1e6) if el else None,
                   "p50_ms": lat_ms(res, "lat_p50_us"), "p99_ms": lat_ms(res, "lat_p99_us"),
                   "cpu_us_per_req": (1e6 * (p2 - p1) / CLK_TCK / res["n"]
                                      if res["n"] else None),
                   "origin_304": delta.get("304", 0), "origin_200": delta.get("200", 0),
                   "origin_other": sum(v for k, v in delta.items() if k not in ("200", "304")),
                   "origin_reqs": o2 - o1 - 1, "bad": res.get("bad"),
                   "incomplete": res.get("incomplete", False) or prime.get("incomplete", False)}
            results["reval"].append(row)
            log(f"  reval {t.name:10s} rep{rep + 1} prime {fmt(row['prime_s'], 3)} s, stale "
                f"pass {fmt(row['elapsed_s'], 3)} s ({fmt(row['rps'], 0)} obj/s, p99 "
                f"{fmt(row['p99_ms'], 2)} ms, cpu {fmt(row['cpu_us_per_req'], 1)} us/obj) "
                f"origin 304s {row['origin_304']} 200s {row['origin_200']} other "
                f"{row['origin_other']} (all requests {row['origin_reqs']})")
            if row["incomplete"] or row["bad"]:
                t.warnings.append(f"reval rep{rep + 1}: incomplete={row['incomplete']} "
                                  f"bad={row['bad']}")
            time.sleep(0.5)
