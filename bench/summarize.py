#!/usr/bin/env python3
# Turns bench/out/results.tsv (one row per run, written by bench/run.sh) into results.md:
# per scenario and server the median, min-max, p99, CPU per request and epserve's ratio to peers;
# for the proxy and Django scenarios (servers are the fronts) also the upstream's CPU and issue 10's
# and 11's targets.
"""Usage: summarize.py OUT_DIR   (reads OUT_DIR/results.tsv and meta.tsv, writes results.md)."""
import csv
import statistics
import sys
from pathlib import Path

# What each scenario hammers; {index} and {notfound} are the document root's page sizes.
DESCRIPTIONS = {
  "small": "GET /index.html ({index} B), keep-alive, 50 connections",
  "notfound": "GET of a missing path -> 404 + noIndex.html ({notfound} B), keep-alive, 50 conns",
  "close": "GET /index.html with `Connection: close` (new TCP connection per request), 50 conns",
  "large": "GET /1m.bin (1 MiB), keep-alive, 10 connections",
  "file4k": "GET /4k.bin, keep-alive, 10 connections",
  "file64k": "GET /64k.bin, keep-alive, 10 connections",
  "file256k": "GET /256k.bin, keep-alive, 10 connections",
  "file16m": "GET /16m.bin, keep-alive, 10 connections",
  "file64m": "GET /64m.bin, keep-alive, 10 connections",
  "range": "GET /64m.bin with Range: 1 MiB from its middle (206), keep-alive, 10 connections",
  "large100": "GET /1m.bin (1 MiB), keep-alive, 100 connections",
  "pipeline": "GET /index.html, 16 requests pipelined per write, 50 connections",
  "c10k": "GET /index.html over 10,000 concurrent keep-alive connections",
  "callgrind": "instructions (callgrind Ir) per keep-alive GET /index.html, ab -k -c 10",
  "proxy-small": "GET /index.html ({index} B) through the front to the upstream nginx, keep-alive, "
                 "{proxyConns} connections",
  "proxy-large": "GET /1m.bin (1 MiB) through the front, keep-alive, 10 connections",
  "proxy-pipeline": "GET /index.html through the front, 16 requests pipelined per write, "
                    "{proxyConns} connections",
  "proxy-callgrind": "instructions (callgrind Ir) of the front alone per proxied keep-alive "
                     "GET /index.html, ab -k -c 10 (the upstream runs natively)",
  "django-hello": "GET /polls/hello/ (a template, no database query) through the front to uWSGI "
                  "over its unix socket (direct: uWSGI's --http-socket), {proxyConns} connections",
  "django-polls": "GET /polls/ (the latest questions from SQLite) through the front to uWSGI, "
                  "{proxyConns} connections",
}
# Issue 10's targets for proxy-small: epserve's req/s over nginx's, and its CPU/req over nginx's.
TARGET_RATE = 1.3
TARGET_CPU = 0.6
# Issue 11's targets for the Django scenarios: req/s at least nginx's, p99 at most nginx's, front
# CPU/req at most this share of nginx's.
DJANGO_TARGET_CPU = 0.6
OTHER_WARN_PCT = 15


def num(text):
  """A float, or None for the NA the shell writes for missing fields."""
  try:
    return float(text)
  except (TypeError, ValueError):
    return None


def fmt(value, digits=None):
  if value is None:
    return "n/a"
  if digits is None:
    digits = 0 if abs(value) >= 100 else (1 if abs(value) >= 10 else 2)
  return f"{value:,.{digits}f}"


def median(values):
  values = [v for v in values if v is not None]
  return statistics.median(values) if values else None


def ratio(a, b):
  return f"{a / b:.2f}" if a is not None and b else "—"


def main():
  out = Path(sys.argv[1] if len(sys.argv) > 1 else "bench/out")
  meta = {}
  with open(out / "meta.tsv", encoding="utf-8") as f:
    for line in f:
      key, _, value = line.rstrip("\n").partition("\t")
      meta[key] = value
  with open(out / "results.tsv", encoding="utf-8", newline="") as f:
    rows = list(csv.DictReader(f, delimiter="\t"))

  scenarios, servers, groups = [], [], {}
  for r in rows:
    if r["scenario"] not in scenarios:
      scenarios.append(r["scenario"])
    if r["server"] not in servers:
      servers.append(r["server"])
    groups.setdefault((r["scenario"], r["server"]), []).append(r)

  stats = {}
  for key, runs in groups.items():
    ok = [r for r in runs if r["status"] == "ok"]
    values = [num(r["value"]) for r in ok]
    errs = [num(r["socket_errors"]) for r in ok]
    stats[key] = {
      "metric": ok[0]["metric"] if ok else "",
      "median": median(values),
      "min": min(values) if values else None,
      "max": max(values) if values else None,
      "p99": median(num(r["p99_ms"]) for r in ok),
      "errors": None if None in errs or not errs else sum(errs),
      "non2xx": sum(num(r["non2xx3xx"]) or 0 for r in ok),
      "cpu": median(num(r["cpu_us_per_req"]) for r in ok),
      "other": max((v for v in map(num, (r["other_cpu_pct"] for r in ok)) if v is not None),
                   default=None),
      "srvCore": median(num(r.get("srv_core_pct")) for r in ok),
      "cliCore": median(num(r.get("cli_core_pct")) for r in ok),
      "srvPerMb": median(num(r.get("srv_cpu_ms_per_mb")) for r in ok),
      "wrkPerMb": median(num(r.get("wrk_cpu_ms_per_mb")) for r in ok),
      "upstreamCpu": median(num(r.get("upstream_cpu_us_per_req")) for r in ok),
      "runs": len(ok),
      "failed": sorted({r["status"] for r in runs if r["status"] != "ok"}),
      "rows": ok,
    }

  lines = ["# epserve benchmark results", ""]
  lines += [
    f"- Date: {meta.get('date', '?')}",
    f"- Machine: {meta.get('nproc', '?')} CPUs, {meta.get('cpu', '?')}, {meta.get('kernel', '?')}",
    f"- Pinning: {meta.get('pinning', '?')}",
  ]
  if "proxy" in meta:
    lines.append(f"- Proxy scenarios: {meta['proxy']}")
  if "django" in meta:
    lines.append(f"- Django scenarios: {meta['django']}; page sizes {meta.get('django_bytes', '?')}")
  versions = [f"{k[len('version '):]}: `{v}`" for k, v in meta.items() if k.startswith("version ")]
  lines.append("- Versions: " + "; ".join(versions))
  lines.append(f"- Command: `{meta.get('command', '?')}`")
  lines.append(f"- {meta.get('rounds', '?')} round(s) of {meta.get('duration', '?')} per run "
               "(after a warm-up), servers run in turn A B C within each round.")
  lines.append("")
  lines.append("| scenario | server | metric | median | min–max | p99 ms | socket errors "
               "| CPU µs/req | epserve ÷ server | epserve ÷ server (CPU/req) | other CPU % "
               "| runs |")
  lines.append("|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
  for scen in scenarios:
    base = stats.get((scen, "epserve"))
    for server in servers:
      s = stats.get((scen, server))
      if s is None:
        continue
      runs = str(s["runs"]) + (f" ({', '.join(s['failed'])})" if s["failed"] else "")
      if server == "epserve" or base is None:
        rel = relCpu = "—"
      else:
        rel = ratio(base["median"], s["median"])
        relCpu = ratio(base["cpu"], s["cpu"])
      spread = f"{fmt(s['min'])}–{fmt(s['max'])}" if s["runs"] else "n/a"
      lines.append(f"| {scen} | {server} | {s['metric'] or 'n/a'} | {fmt(s['median'])} | {spread} "
                   f"| {fmt(s['p99'], 2)} | {fmt(s['errors'], 0)} | {fmt(s['cpu'], 2)} "
                   f"| {rel} | {relCpu} | {fmt(s['other'], 0)} | {runs} |")

  bulk = [(scen, server) for scen in scenarios for server in servers
          if (scen, server) in stats and stats[(scen, server)]["metric"] == "MB/s"
          and stats[(scen, server)]["rows"]]
  if bulk:
    lines += ["", "Where the work goes in the file scenarios (medians over runs): each core's busy "
              "share (server pinned to one, wrk to the other; kernel time included) and CPU "
              "milliseconds per MB moved, the server's own and wrk's:", "",
              "| scenario | server | MB/s | server core busy % | wrk core busy % "
              "| server CPU ms/MB | wrk CPU ms/MB |", "|---|---|--:|--:|--:|--:|--:|"]
    for scen, server in bulk:
      s = stats[(scen, server)]
      lines.append(f"| {scen} | {server} | {fmt(s['median'])} | {fmt(s['srvCore'], 0)} "
                   f"| {fmt(s['cliCore'], 0)} | {fmt(s['srvPerMb'], 3)} | {fmt(s['wrkPerMb'], 3)} |")

  c10k = [(server, stats[("c10k", server)]) for server in servers if ("c10k", server) in stats]
  c10k = [(server, s) for server, s in c10k if s["rows"]]
  if c10k:
    lines += ["", "Memory during c10k (kB, summed over the server's processes; medians over runs):",
              "", "| server | VmRSS before | peak VmRSS during (VmHWM) | VmRSS after "
              "| bytes per connection | HWM reset |", "|---|--:|--:|--:|--:|--:|"]
    for server, s in c10k:
      col = lambda name: median(num(r[name]) for r in s["rows"])
      resets = sorted({r["hwm_reset"] for r in s["rows"]})
      lines.append(f"| {server} | {fmt(col('rss_before_kb'), 0)} | {fmt(col('hwm_during_kb'), 0)} "
                   f"| {fmt(col('rss_after_kb'), 0)} | {fmt(col('rss_per_conn_bytes'), 0)} "
                   f"| {'/'.join(resets)} |")

  def frontTable(prefix, intro):
    """The fronts' rows for one family of scenarios (proxy- or django-), or [] when none ran."""
    picked = [(scen, server) for scen in scenarios if scen.startswith(prefix)
              and not scen.endswith("-callgrind") for server in servers
              if (scen, server) in stats and stats[(scen, server)]["rows"]]
    if not picked:
      return []
    out = ["", intro, "",
           "| scenario | front | metric | median | p99 ms | front CPU µs/req "
           "| upstream CPU µs/req | front + upstream | server core busy % | front ÷ direct |",
           "|---|---|---|--:|--:|--:|--:|--:|--:|--:|"]
    for scen, server in picked:
      s = stats[(scen, server)]
      direct = stats.get((scen, "direct"))
      both = (s["cpu"] + s["upstreamCpu"]) if s["cpu"] is not None \
          and s["upstreamCpu"] is not None else None
      rel = "—" if server == "direct" or direct is None else ratio(s["median"], direct["median"])
      out.append(f"| {scen} | {server} | {s['metric']} | {fmt(s['median'])} | {fmt(s['p99'], 2)} "
                 f"| {fmt(s['cpu'], 2)} | {fmt(s['upstreamCpu'], 2)} | {fmt(both, 2)} "
                 f"| {fmt(s['srvCore'], 0)} | {rel} |")
    return out

  def versusNginx(scen):
    """(req/s ratio, p99 ratio, front CPU ratio) of epserve over nginx in `scen`, or None."""
    ep, ng = stats.get((scen, "epserve")), stats.get((scen, "nginx"))
    if not (ep and ng and ep["rows"] and ng["rows"]):
      return None
    over = lambda a, b: a / b if a is not None and b else None
    return over(ep["median"], ng["median"]), over(ep["p99"], ng["p99"]), over(ep["cpu"], ng["cpu"])

  verdict = lambda ok: "met" if ok else "not met"
  lines += frontTable("proxy-", "Proxy scenarios (servers are the fronts; *direct* is wrk straight "
                      "to the upstream nginx, pinned with the front): the front's CPU and the "
                      "upstream's, per request (medians over runs). *front ÷ direct* is the front's "
                      "throughput as a share of the upstream's own.")
  got = versusNginx("proxy-small")
  if got:
    rate, _, cpu = got
    lines += ["", "Issue 10's targets for proxy-small: epserve ÷ nginx req/s = "
              f"{fmt(rate, 2)} (target ≥ {TARGET_RATE}: "
              f"{verdict(rate is not None and rate >= TARGET_RATE)}); epserve ÷ nginx front CPU "
              f"µs/req = {fmt(cpu, 2)} (target ≤ {TARGET_CPU}: "
              f"{verdict(cpu is not None and cpu <= TARGET_CPU)})."]
  lines += frontTable("django-", "Django scenarios (the same uWSGI processes behind every front, "
                      "pinned with it; *direct* is wrk straight to uWSGI's own --http-socket; "
                      "*upstream CPU* is all of uWSGI's processes): medians over runs.")
  for scen in (x for x in scenarios if x.startswith("django-")):
    got = versusNginx(scen)
    if not got:
      continue
    rate, p99, cpu = got
    lines += ["", f"Issue 11's targets for {scen}: epserve ÷ nginx req/s = {fmt(rate, 2)} "
              f"(target ≥ 1: {verdict(rate is not None and rate >= 1)}); p99 = {fmt(p99, 2)} "
              f"(target ≤ 1: {verdict(p99 is not None and p99 <= 1)}); front CPU µs/req = "
              f"{fmt(cpu, 2)} (target ≤ {DJANGO_TARGET_CPU}: "
              f"{verdict(cpu is not None and cpu <= DJANGO_TARGET_CPU)})."]

  sizes = {"index": meta.get("index_bytes", "?"), "notfound": meta.get("notfound_bytes", "?"),
           "proxyConns": meta.get("proxy_conns", "?")}
  lines += ["", "Scenarios:", ""]
  for scen in scenarios:
    lines.append(f"- **{scen}**: {DESCRIPTIONS.get(scen, scen).format(**sizes)}")
  lines += [
    "",
    "How to read: *median* and *min–max* are over the rounds (req/s, MB/s = 10^6 bytes/s incl. "
    "headers, or instructions per request); *p99 ms* is the median of the runs' wrk p99 latency; "
    "*socket errors* sums wrk's connect/read/write/timeout errors over all runs (for callgrind: "
    "ab's failed requests); *CPU µs/req* is the server's utime+stime during the measured run "
    "divided by the requests wrk completed (median over runs). *epserve ÷ server* is epserve's "
    "median over that server's median: above 1 means epserve is faster for req/s and MB/s, "
    "below 1 means epserve is cheaper for Ir/req and CPU/req. *other CPU %* is the largest, over "
    "the runs, CPU time used by neither the server nor wrk during a run, in % of one core "
    f"(tick-sampled; above ~{OTHER_WARN_PCT}% another job shared the machine and the run is "
    "suspect). Rows whose runs failed the "
    "correctness check or did not run are listed with their status and left out of the numbers.",
  ]
  noisy = sorted(f"{scen}/{server}" for (scen, server), s in stats.items()
                 if s["other"] is not None and s["other"] > OTHER_WARN_PCT)
  if noisy:
    lines += ["", f"Warning: other processes used more than {OTHER_WARN_PCT}% of a core during "
              f"some runs of: {', '.join(noisy)}. Re-run on a quiet machine before trusting them."]
  if any(s["non2xx"] for (scen, _), s in stats.items() if scen != "notfound"):
    lines += ["", "Warning: some runs outside *notfound* got non-2xx/3xx responses "
              "(column non2xx3xx in results.tsv)."]
  text = "\n".join(lines) + "\n"
  (out / "results.md").write_text(text, encoding="utf-8")
  sys.stdout.write(text)


if __name__ == "__main__":
  main()
