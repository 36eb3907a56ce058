"""Turning ``results.json`` into the Markdown table, ``bench/README.md`` and PNG plots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

Row = tuple[str, str, str, str, str, str]


def _ms(value: Any) -> str:
    return f"{value:.2f} ms" if isinstance(value, int | float) else "-"


def _met(entry: dict[str, Any]) -> str:
    return "**yes**" if entry.get("met") else "no"


def rows(r: dict[str, Any]) -> list[Row]:
    """(measurement, figure, baseline, ratio, target, met) for every measured target."""
    out: list[Row] = []
    s = r.get("search")
    if s:
        lat, tput = s["latency"], s["throughput"]
        p50, p99, sc = lat["search_p50"], lat["search_p99"], lat["scaling"]
        out += [
            ("1. search p50, 4 nodes", _ms(p50["value_ms"]), _ms(p50["baseline_ms"]) +
             " bare 4-way fan-out", str(p50["ratio"]), p50["target"], _met(p50)),
            ("1. search p99, 4 nodes", _ms(p99["value_ms"]), _ms(p99["baseline_ms"]) +
             " bare 4-way fan-out", str(p99["ratio"]), p99["target"], _met(p99)),
            ("2. fan-out scaling (8 / 1 nodes)", f"{sc['value']}x", f"{sc['baseline']}x bare",
             str(sc["ratio"]), sc["target"], _met(sc)),
            ("3. throughput, 64 in flight", f"{tput['value']} searches/s",
             f"{tput['baseline']} echo RPCs/s", str(tput["ratio"]), tput["target"], _met(tput)),
        ]
    ix = r.get("index")
    if ix:
        for backend in ("sqlite", "postgresql"):
            e = ix.get(backend)
            if not e or "skipped" in e:
                continue
            out.append((f"4. token lookup p50, {backend}, {e['large_records']:,} records",
                        _ms(e["value_ms"]), _ms(e["baseline_ms"]) +
                        f" at {e['small_records']:,}", str(e["ratio"]), e["target"], _met(e)))
    ing = r.get("ingest")
    if ing:
        e, x = ing["end_to_end"], ing["exact_only"]
        out += [
            ("5. ingest end to end", f"{e['value']} records/s",
             f"{e['baseline']} records/s (raw HMAC/s / {ing['index_tokens_per_record']} tokens)",
             str(e["ratio"]), e["target"], _met(e)),
            ("5. ingest, exact tokens only", f"{x['value']} persons/s", "-", "-", x["target"],
             _met(x)),
        ]
        w = ing.get("end_to_end_workers")
        if w:
            out.append((f"5. ingest end to end, {w['workers']} workers", f"{w['value']} records/s",
                        f"{w['speedup']}x one process", str(w["ratio"]),
                        "(not judged: the floor is one core's)", "-"))
    a = r.get("audit")
    if a:
        ap, lp, g = a["appends_per_second"], a["append_p99"], a["group_commit"]
        out += [
            ("6. unbatched durable audit appends", f"{ap['value']}/s",
             f"{ap['baseline']}/s raw SQLite commits", str(ap["ratio"]), ap["target"], _met(ap)),
            ("6. audit append p99", _ms(lp["value_ms"]), _ms(lp["baseline_ms"]) + " fsync p99",
             str(lp["ratio"]), lp["target"], _met(lp)),
            (f"6. group commit, {g['callers']} callers", f"{g['value']}/s",
             f"{g['baseline']}/s unbatched", str(g["ratio"]),
             f"({g['entries_per_commit']} entries/commit)", "-"),
        ]
    p = r.get("policy")
    if p:
        out.append(("7. policy decision p50 (fresh input)", _ms(p["value_ms"]),
                    _ms(p["baseline_ms"]) + " bare gRPC round trip", str(p["ratio"]),
                    p["target"], _met(p)))
    mem = []
    if ix and "memory" in ix:
        mem.append((f"8. node peak RSS, {ix['sqlite']['large_records']:,}-record index",
                    f"{ix['memory']['node_peak_rss_mib']} MiB", "-", "-", "reported", "-"))
    if s:
        mem.append(("8. hub peak RSS under throughput test",
                    f"{s['throughput']['hub_peak_rss_mib']} MiB", "-", "-", "reported", "-"))
    return out + mem


def table(r: dict[str, Any]) -> str:
    lines = ["| measurement | figure | baseline (same run) | ratio | target | met |",
             "|---|---|---|---|---|---|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows(r)]
    return "\n".join(lines)


def markdown(r: dict[str, Any], plots: list[Path]) -> str:
    m = r["machine"]
    s = r.get("search", {})
    parts = [
        "# Accord benchmark results",
        "",
        "Written by `make bench` (`accord bench`); the raw numbers are in "
        "[`results.json`](results.json). Every figure is the median over interleaved "
        "rounds of the figure and its floor, measured in the same run on the same machine; "
        "the ratio is the median of the per-round ratios.",
        "",
        f"Run at {r['started_at']} in {r['total_seconds']:.0f} s.",
        "",
        "## Machine",
        "",
        f"* `nproc`: {m['nproc']}; CPU: {m['cpu_model']}; RAM: {m['ram_gib']} GiB",
        f"* Python {m['python']} on {m['platform']}",
        f"* load average at start: {m['load_average_at_start']} (shared with other jobs: "
        "absolute times drift, ratios less so)",
        "",
        "## Results",
        "",
        table(r),
        "",
    ]
    if s:
        lat = s["latency"]
        parts += [
            "## Search latency by variant",
            "",
            f"{s['tls']}; {s['records_per_node']} records per searched node; request payload "
            f"{s['payload_bytes']} bytes for the floors.",
            "",
            "| variant | p50 | p99 | samples |",
            "|---|---|---|---|",
        ]
        for name, v in lat["variants"].items():
            parts.append(f"| {name} | {_ms(v['p50_ms'])} | {_ms(v['p99_ms'])} | {v['samples']} |")
        parts += ["",
                  "`search-N`: the real path to N nodes; `fanout-N`: the bare echo fan-out to N "
                  "servers (the issue's floor); `path-4`: client -> relay -> relay -> 4 echo "
                  "servers, the real path's three hops with nothing in them "
                  f"(search p50 over it: {lat['search_p50_vs_path']['ratio']}x).", ""]
    ix = r.get("index")
    if ix:
        parts += ["## Index",
                  "",
                  f"{ix['tokens_per_record']} tokens per record, queries of "
                  f"{ix['query_index_tokens']} index tokens (as the benchmark query sends); "
                  f"build seconds: SQLite {ix.get('sqlite_build_seconds')}, PostgreSQL "
                  f"{ix.get('postgresql_build_seconds', '-')}.", ""]
    if "matching" in r:
        parts += ["## Matching quality", "",
                  "`benchmarks.matching` ran too; its JSON is under `matching` in "
                  "`results.json`.", ""]
    if plots:
        parts += ["## Plots", ""] + [f"![{p.stem}]({p.name})" for p in plots] + [""]
    parts += ["## Reproduce", "", "```sh", "make bench                      # defaults, < 15 min",
              ".venv/bin/accord bench run --index-large 10000000   # the issue's 10^7 index",
              ".venv/bin/accord bench run --only search,audit --rounds 9",
              ".venv/bin/accord bench profile --in-flight 1   # where a search's time goes",
              "```", ""]
    return "\n".join(parts)


def plots(r: dict[str, Any], out: Path) -> list[Path]:
    """PNG plots next to the results; none if matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    made: list[Path] = []
    s = r.get("search")
    if s:
        v = s["latency"]["variants"]
        names = list(v)
        fig, ax = plt.subplots(figsize=(8, 4))
        xs = range(len(names))
        ax.bar([x - 0.2 for x in xs], [v[n]["p50_ms"] for n in names], 0.4, label="p50")
        ax.bar([x + 0.2 for x in xs], [v[n]["p99_ms"] for n in names], 0.4, label="p99")
        ax.set_xticks(list(xs), names, rotation=20)
        ax.set_ylabel("ms")
        ax.set_title("Search latency: real path vs bare floors (median over rounds)")
        ax.legend()
        fig.tight_layout()
        path = out / "latency.png"
        fig.savefig(path, dpi=100)
        plt.close(fig)
        made.append(path)
        fig, ax = plt.subplots(figsize=(6, 4))
        widths = [1, 4, 8]
        ax.plot(widths, [v[f"search-{w}"]["p50_ms"] for w in widths], "o-", label="search p50")
        ax.plot(widths, [v[f"fanout-{w}"]["p50_ms"] for w in widths], "s-",
                label="bare fan-out p50")
        ax.set_xlabel("nodes searched")
        ax.set_ylabel("ms")
        ax.set_title("Fan-out scaling")
        ax.legend()
        fig.tight_layout()
        path = out / "scaling.png"
        fig.savefig(path, dpi=100)
        plt.close(fig)
        made.append(path)
    table_rows = [row for row in rows(r) if row[3] not in ("-", "")]
    if table_rows:
        fig, ax = plt.subplots(figsize=(8, 0.45 * len(table_rows) + 1))
        labels = [row[0] for row in table_rows]
        ratios = [float(row[3]) for row in table_rows]
        colors = ["tab:gray" if row[5] == "-" else "tab:green" if row[5] == "**yes**"
                  else "tab:red" for row in table_rows]
        ax.barh(range(len(labels)), ratios, color=colors)
        ax.set_yticks(range(len(labels)), labels)
        ax.set_xscale("log")
        ax.invert_yaxis()
        ax.set_xlabel("ratio to floor (log); green: target met, red: not met, gray: no target")
        fig.tight_layout()
        path = out / "ratios.png"
        fig.savefig(path, dpi=100)
        plt.close(fig)
        made.append(path)
    return made
