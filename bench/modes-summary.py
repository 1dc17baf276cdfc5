#!/usr/bin/env python3
"""modes-summary.py OUTDIR — the tables of bench/modes.sh: ratios taken within each round, their median and min–max.

Throughput modes: per target, req/s, ÷direct, Meshgate ÷ that target, CPU per request (both hops of a chain) and
Meshgate's CPU per request ÷ that target's. The fixed-rate mode (two-hop-rate): the rate reached, p50/p99, and p99
added over direct (per round: the chain's p99 minus direct's p99 in that round). Writes OUTDIR/ratios.tsv as well.
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

    tsv = [["mode", "target", "rps_median", "over_direct", "meshgate_over_target", "meshgate_over_target_min",
            "meshgate_over_target_max", "cpu_us_per_req", "meshgate_cpu_over_target_cpu", "p50_ms", "p99_ms",
            "p99_added_over_direct_ms", "peak_rss_mib", "errors", "rounds"]]
    for m in order_m:
        targets = order_t[m]
        rate = m.endswith("-rate")
        print(f"### {m}")
        print()
        if rate:
            print("| target | req/s reached | p50 ms | p99 ms | p99 added over direct, ms (min–max) | CPU µs/req | errors |")
            print("|---|---:|---:|---:|---:|---:|---:|")
        else:
            print("| target | req/s | ÷ direct | Meshgate ÷ this (min–max) | CPU µs/req | Meshgate CPU/req ÷ this "
                  "| p50 ms | p99 ms | peak RSS MiB | errors |")
            print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for t in targets:
            rs = [r for r in rows if r["mode"] == m and r["target"] == t]
            rps = med([num(r["rps"]) for r in rs])
            p50 = med([num(r["p50_ms"]) for r in rs])
            p99 = med([num(r["p99_ms"]) for r in rs])
            cpu = med([num(r["gw_cpu_us_per_req"]) for r in rs])
            errs = sum(int(r["sock_err"]) + int(r["non2xx"]) for r in rs)
            over_direct = paired(m, t, "direct", "rps") if t != "direct" else []
            mg_over = paired(m, MESHGATE, t, "rps") if t not in ("direct", MESHGATE) else []
            mg_cpu = paired(m, MESHGATE, t, "gw_cpu_us_per_req") if t not in ("direct", MESHGATE) else []
            added = paired(m, t, "direct", "p99_ms", lambda x, y: x - y) if t != "direct" else []
            peak = rss.get((m, t))
            peak_mib = peak / 1024 if peak else None
            if rate:
                print(f"| {t} | {fmt(rps, ',.0f')} | {fmt(p50, '.3f')} | {fmt(p99, '.3f')} | {spread(added, '.3f')} "
                      f"| {fmt(cpu, '.1f')} | {errs} |")
            else:
                print(f"| {t} | {fmt(rps, ',.0f')} | {fmt(med(over_direct), '.2f')} | {spread(mg_over, '.2f')} "
                      f"| {fmt(cpu, '.1f')} | {fmt(med(mg_cpu), '.2f')} | {fmt(p50, '.3f')} | {fmt(p99, '.3f')} "
                      f"| {fmt(peak_mib, '.1f')} | {errs} |")
            tsv.append([m, t, fmt(rps, '.0f'), fmt(med(over_direct), '.3f'), fmt(med(mg_over), '.3f'),
                        fmt(min(mg_over) if mg_over else None, '.3f'), fmt(max(mg_over) if mg_over else None, '.3f'),
                        fmt(cpu, '.1f'), fmt(med(mg_cpu), '.3f'), fmt(p50, '.3f'), fmt(p99, '.3f'),
                        fmt(med(added), '.3f'), fmt(peak_mib, '.1f'), str(errs), str(len(rs))])
        print()
    print("Ratios are taken within each round (targets measured back to back), then the median (min–max) over rounds. "
          "CPU: utime+stime of the proxy processes (both hops of a chain) per request. Peak RSS: VmHWM summed over "
          "them. Errors: socket errors + non-2xx over all rounds.")
    with open(f"{out}/ratios.tsv", "w", newline="") as f:
        csv.writer(f, delimiter="\t", lineterminator="\n").writerows(tsv)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: modes-summary.py OUTDIR")
    main(sys.argv[1])
