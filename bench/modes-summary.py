#!/usr/bin/env python3
"""modes-summary.py OUTDIR — the tables of bench/modes.sh: ratios taken within each round, their median and min–max.

Per mode: each target's req/s, ÷direct, CPU per request (both hops of a chain), p50/p99, p99 added over direct (per
round: the target's p99 minus direct's), peak RSS; then each Meshgate target (named meshgate*) ÷ each peer and ÷ the
better peer of each round, in req/s and CPU per request. Writes OUTDIR/ratios.tsv (the same, one row per pair).
"""
import csv
import statistics
import sys
from collections import defaultdict

MESHGATE = "meshgate"


def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def med(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def fmt(v, spec):
    return "-" if v is None else format(v, spec)


def spread(vals, spec):
    vals = [v for v in vals if v is not None]
    return f"{fmt(med(vals), spec)} ({min(vals):{spec}}–{max(vals):{spec}})" if vals else "-"


def main(out):
    rows, order_m, order_t = [], [], defaultdict(list)
    with open(f"{out}/results.tsv") as f:
        for r in csv.DictReader(f, delimiter="\t"):
            rows.append(r)
            if r["mode"] not in order_m:
                order_m.append(r["mode"])
            if r["target"] not in order_t[r["mode"]]:
                order_t[r["mode"]].append(r["target"])
    rss = {}
    try:
        with open(f"{out}/rss.tsv") as f:
            for r in csv.DictReader(f, delimiter="\t"):
                rss[(r["mode"], r["target"])] = int(r["peak_rss_kb"])
    except FileNotFoundError:
        pass
    at = {(r["mode"], r["target"], r["round"]): r for r in rows}
    rounds = defaultdict(set)
    for r in rows:
        rounds[r["mode"]].add(r["round"])

    def paired(m, a, b, field, op=lambda x, y: x / y if y else None):
        vals = []
        for rnd in sorted(rounds[m]):
            ra, rb = at.get((m, a, rnd)), at.get((m, b, rnd))
            if ra and rb:
                x, y = num(ra[field]), num(rb[field])
                if x is not None and y is not None:
                    vals.append(op(x, y))
        return [v for v in vals if v is not None]

    tsv = [["mode", "target", "versus", "rps_ratio", "rps_ratio_min", "rps_ratio_max", "cpu_per_req_ratio",
            "rps_median", "cpu_us_per_req", "p50_ms", "p99_ms", "p99_added_over_direct_ms", "peak_rss_mib", "errors",
            "rounds"]]
    for m in order_m:
        targets = order_t[m]
        ours = [t for t in targets if t.startswith(MESHGATE)]
        peers = [t for t in targets if t != "direct" and t not in ours]
        rate = m.endswith("-rate")
        print(f"### {m}")
        print()
        print("| target | req/s | ÷ direct | CPU µs/req | p50 ms | p99 ms | p99 added over direct, ms (min–max) "
              "| peak RSS MiB | errors |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        stats = {}
        for t in targets:
            rs = [r for r in rows if r["mode"] == m and r["target"] == t]
            st = {
                "rps": med([num(r["rps"]) for r in rs]),
                "p50": med([num(r["p50_ms"]) for r in rs]),
                "p99": med([num(r["p99_ms"]) for r in rs]),
                "cpu": med([num(r["gw_cpu_us_per_req"]) for r in rs]),
                "errs": sum(int(r["sock_err"]) + int(r["non2xx"]) for r in rs),
                "added": paired(m, t, "direct", "p99_ms", lambda x, y: x - y) if t != "direct" else [],
                "rss": rss.get((m, t)),
                "n": len(rs),
            }
            stats[t] = st
            over_direct = paired(m, t, "direct", "rps") if t != "direct" else []
            print(f"| {t} | {fmt(st['rps'], ',.0f')} | {fmt(med(over_direct), '.2f')} | {fmt(st['cpu'], '.1f')} "
                  f"| {fmt(st['p50'], '.3f')} | {fmt(st['p99'], '.3f')} | {spread(st['added'], '.3f')} "
                  f"| {fmt(st['rss'] / 1024 if st['rss'] else None, '.1f')} | {st['errs']} |")
            tsv.append([m, t, "direct", fmt(med(over_direct), '.3f'), fmt(min(over_direct) if over_direct else None, '.3f'),
                        fmt(max(over_direct) if over_direct else None, '.3f'), "-", fmt(st["rps"], '.0f'),
                        fmt(st["cpu"], '.1f'), fmt(st["p50"], '.3f'), fmt(st["p99"], '.3f'), fmt(med(st["added"]), '.3f'),
                        fmt(st["rss"] / 1024 if st["rss"] else None, '.1f'), str(st["errs"]), str(st["n"])])
        print()
        if ours and peers:
            what = "req/s at the fixed rate (≈ 1: the rate was reached)" if rate else "req/s"
            print(f"| Meshgate | versus | {what}: Meshgate ÷ peer (min–max) | CPU per request: Meshgate ÷ peer |")
            print("|---|---|---:|---:|")
            for o in ours:
                versus = peers + (["better peer"] if len(peers) > 1 else [])
                for v in versus:
                    if v == "better peer":
                        # per round: the peer with the most req/s, and the least CPU per request
                        rr, cc = [], []
                        for rnd in sorted(rounds[m]):
                            a = at.get((m, o, rnd))
                            bs = [at.get((m, p, rnd)) for p in peers]
                            bs = [b for b in bs if b]
                            if not a or not bs:
                                continue
                            best = max(num(b["rps"]) or 0 for b in bs)
                            if best:
                                rr.append(num(a["rps"]) / best)
                            cpus = [num(b["gw_cpu_us_per_req"]) for b in bs if num(b["gw_cpu_us_per_req"])]
                            if cpus and num(a["gw_cpu_us_per_req"]):
                                cc.append(num(a["gw_cpu_us_per_req"]) / min(cpus))
                    else:
                        rr = paired(m, o, v, "rps")
                        cc = paired(m, o, v, "gw_cpu_us_per_req")
                    print(f"| {o} | {v} | {spread(rr, '.2f')} | {spread(cc, '.2f')} |")
                    tsv.append([m, o, v, fmt(med(rr), '.3f'), fmt(min(rr) if rr else None, '.3f'),
                                fmt(max(rr) if rr else None, '.3f'), fmt(med(cc), '.3f'), "-", "-", "-", "-", "-", "-",
                                "-", str(len(rr))])
            print()
    print("Ratios are taken within each round (targets measured back to back), then the median (min–max) over rounds; "
          "the better peer is, per round, the peer with the most req/s (and, for CPU, the least CPU per request). "
          "CPU: utime+stime of the proxy processes (both hops of a chain) per request. p99 added over direct: per round, "
          "the target's p99 minus direct's. Peak RSS: VmHWM summed over the processes. Errors: socket errors + non-2xx "
          "over all rounds.")
    with open(f"{out}/ratios.tsv", "w", newline="") as f:
        csv.writer(f, delimiter="\t", lineterminator="\n").writerows(tsv)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: modes-summary.py OUTDIR")
    main(sys.argv[1])
