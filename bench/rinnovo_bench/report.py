"""The tables printed at the end of a run, and the plot.

The first table holds the throughput figures the project has targets for, each with its
target and whether this run met it; then the baselines, the scheduler's curve, the cost
account of a renewal and the profile of the service that spent the most on it.
"""

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from rinnovo_bench.common import Json

Row = tuple[str, str, str, str]


def fig(s: Json | None, digits: int = 1) -> str:
    if not s:
        return "-"
    return f"{s['median']:,.{digits}f} [{s['min']:,.{digits}f}-{s['max']:,.{digits}f}] {s['unit']}"


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def latency(result: Json, quick: bool) -> tuple[str, str]:
    """``p50 / p99 / p99.9`` of an open loop with its window and generator lateness, and
    whether its percentiles may be reported at all."""
    lat, late = result["latency_ms"], result["generator"]["lateness_ms"]
    shown = (
        f"{lat.get('p50', 0):,.1f} / {lat.get('p99', 0):,.1f} / {lat.get('p99.9', 0):,.1f} ms "
        f"({lat.get('count', 0):,} in {result['seconds']:.0f} s, {result['processes']} gen.; "
        f"generator late p99 {late.get('p99', 0):,.1f} ms)"
    )
    if not result.get("reportable"):
        return shown, "quick run: not reportable" if quick else "window too short: not reportable"
    return shown, ""


def targets(r: Json, quick: bool) -> list[Row]:
    rows: list[Row] = []
    if p := r.get("pipeline"):
        rows.append(
            (
                "renewal pipeline, max sustainable rate",
                fig(p["max_rate"], 2),
                ">= 60 /s",
                verdict(p["max_rate"]["median"] >= 60),
            )
        )
        shown, note = latency(p["open_loop"], quick)
        p99 = p["open_loop"]["latency_ms"].get("p99", 1e9)
        rows.append(
            (
                f"  p50/p99/p99.9 at half of it, {p['open_loop']['rate']:.2f}/s",
                shown,
                "p99 <= 500 ms",
                note or verdict(p99 <= 500 and p["failures"] == 0),
            )
        )
    rows += tracing(r)
    if h := r.get("hop"):
        rows.append(
            ("one runtime hop", fig(h["hop"]), ">= 1,000 /s", verdict(h["hop"]["median"] >= 1000))
        )
        rows.append(
            (
                "  hop / B_k_batch",
                fig(h["vs_B_k_batch"], 3),
                ">= 0.5",
                verdict(h["vs_B_k_batch"]["median"] >= 0.5),
            )
        )
    if s := r.get("scheduler"):
        d = s["due_milestones"]
        rows.append(
            (
                f"due milestones with their events ({d['due_per_repetition']:,} due among "
                f"{d['total_services']:,})",
                fig(d["rate"]),
                ">= 500 /s",
                verdict(d["rate"]["median"] >= 500),
            )
        )
        last = s["empty_sweep"][-1]
        rows.append(
            (
                f"empty sweep, {last['total']:,} services",
                fig(last, 1),
                "<= 50 ms",
                verdict(last["median"] <= 50),
            )
        )
        rows.append(
            (
                f"  first sweep after loading, {last['total']:,}",
                fig(last["first_sweep"], 1),
                "<= 50 ms",
                verdict(last["first_sweep"]["median"] <= 50),
            )
        )
    if a := r.get("api"):
        best = a["max_rate"]["rate"]
        rows.append(
            (
                "card list (20 cards), max rate",
                f"{best:,.1f} req/s",
                ">= 300 req/s",
                verdict(best >= 300),
            )
        )
        half = a["half_max_rate"]
        shown, note = latency(half, quick)
        ok = half["latency_ms"].get("p99", 1e9) <= 50 and half["timeouts"] + half["errors"] == 0
        rows.append(
            (
                f"  p50/p99/p99.9 at half of it, {half['rate']:.1f} req/s",
                shown,
                "p99 <= 50 ms",
                note or verdict(ok),
            )
        )
    if p := r.get("pipeline"):
        idle = p["idle_stack"]
        rows.append(
            (
                "whole stack idle (Kafka, FerretDB, the services), warmed up",
                f"{idle['total_percent']:.1f} % of one core over {idle['seconds']:.0f} s",
                "<= 5 %",
                verdict(idle["total_percent"] <= 5),
            )
        )
        if start := p.get("idle_stack_at_start"):
            rows.append(
                (
                    "  … in the first minute after the start",
                    f"{start['total_percent']:.1f} % of one core over {start['seconds']:.0f} s",
                    "",
                    "",
                )
            )
        peak = max(p["rss_mib"]["under_load_peak"].values(), default=0.0)
        rows.append(
            (
                "RSS per service under pipeline load, peak",
                f"{peak:.0f} MiB",
                "<= 150 MiB",
                verdict(peak <= 150),
            )
        )
    return rows


def tracing(r: Json) -> list[Row]:
    t = r.get("tracing")
    if not t:
        return []
    target, cpu = t["targets"]["on_vs_off"], t["cpu_ms_per_renewal"]
    rows: list[Row] = [
        (
            "renewal pipeline, tracing off (nothing installed), max rate",
            fig(t["off"], 2),
            "no cost",
            "nothing installed: unit test",
        ),
        (
            f"  tracing on, every span over OTLP ({t['spans_per_renewal']:.0f} per renewal)",
            fig(t["on"], 2),
            "",
            "",
        ),
        (
            "  tracing on / off",
            fig(t["on_vs_off"], 3),
            f">= {target}",
            verdict(t["on_vs_off"]["median"] >= target),
        ),
    ]
    servers = ", ".join(cpu["servers"])
    for key, label in (("services", "the services"), ("with_servers", f"with {servers}")):
        if key == "with_servers" and not servers:
            continue  # servers the bench did not start: their CPU is not known
        c = cpu[key]
        rows.append(
            (
                f"  CPU per renewal, {label}: off / on",
                f"{c['off']['median']:.1f} / {c['on']['median']:.1f} ms, "
                f"on / off {fig(c['on_vs_off'], 3)}",
                "",
                "",
            )
        )
    return rows


def baselines(r: Json) -> list[Row]:
    rows: list[Row] = []
    if b := r.get("baselines"):
        rows += [
            ("B_k raw consume-forward-commit, a commit per message", fig(b["B_k"]), "", ""),
            ("B_k_batch getmany-forward all-wait-commit per batch", fig(b["B_k_batch"]), "", ""),
            ("B_m raw update_one by _id", fig(b["B_m"]), "", ""),
            ("B_m guarded {_id, version}", fig(b["B_m_guarded"]), "", ""),
            (
                f"B_m_bulk {b['B_m_bulk']['per_command']} _id statements per update",
                fig(b["B_m_bulk"]),
                "",
                "",
            ),
            ("B_v model_validate_json envelope", fig(b["B_v"], 0), "", ""),
        ]
    if h := r.get("hop"):
        writes = h["db_writes_per_message"]
        rows += [
            ("hop / B_k", fig(h["vs_B_k"], 3), "", ""),
            (f"hop / (B_m / {writes} writes per message)", fig(h["vs_db_ceiling"], 3), "", ""),
            (
                f"hop / (B_m_bulk / {writes} writes per message)",
                fig(h["vs_db_bulk_ceiling"], 3),
                "",
                "",
            ),
        ]
    if s := r.get("scheduler"):
        for point in s["empty_sweep"]:
            total = point["total"]
            load = s["load_seconds"].get(str(total), 0.0)
            rows.append(
                (f"sweep, 0 due, {total:,} services (loaded in {load:,.0f} s)", fig(point), "", "")
            )
            first = fig(point["first_sweep"])
            rows.append((f"  first sweep after loading, {total:,}", first, "", ""))
    return rows


def cost_rows(p: Json) -> list[Row]:
    c = p["cost"]
    rows: list[Row] = [
        (
            f"CPU per renewal, all processes ({c['units']} renewals, "
            f"{c['busy_cores']:.2f} cores busy)",
            f"{c['cpu_ms_per_unit_total']:.1f} ms",
            "",
            "",
        )
    ]
    for name, ms in sorted(c["cpu_ms_per_unit"].items(), key=lambda kv: -kv[1]):
        rows.append((f"  {name}", f"{ms:.1f} ms", "", ""))
    for service, trips in c["round_trips_per_unit"].items():
        kinds = ", ".join(
            f"{k} {v:.1f}" for k, v in sorted(trips["by_kind"].items(), key=lambda kv: -kv[1])
        )
        rows.append(
            (
                f"{service}: db commands / Kafka requests per renewal",
                f"{trips['mongo_commands']:.1f} / {trips['kafka_requests']:.1f}",
                kinds,
                "",
            )
        )
    return rows


def profile_rows(p: Json) -> list[Row]:
    prof = p.get("profile") or {}
    frames = prof.get("frames")
    if not frames:
        return [("profile", prof.get("error") or "not taken", "", "")]
    rows: list[Row] = [
        (f"{prof['service']}, {frames['samples']} samples: top functions", "self %", "total %", "")
    ]
    for f in frames["functions"][:15]:
        rows.append(
            (f"  {f['frame'][:90]}", f"{f['self_percent']:.1f}", f"{f['total_percent']:.1f}", "")
        )
    rows.append(("by package", "self %", "", ""))
    rows += [(f"  {k['package']}", f"{k['self_percent']:.1f}", "", "") for k in frames["packages"]]
    return rows


def render(title: str, rows: Iterable[Row]) -> str:
    rows = list(rows)
    if not rows:
        return ""
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [f"== {title}"]
    lines += [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    return "\n".join(lines) + "\n"


def table(document: Json) -> str:
    r = document["results"]
    quick = document["mode"] == "quick"
    m = document["machine"]
    at_end = m.get("loadavg_at_end", [0.0])[0]
    loads = f"load average {m['loadavg_at_start'][0]:.1f} at start, {at_end:.1f} at end"
    parts: list[tuple[str, Callable[[], list[Row]]]] = [
        (f"figures with targets ({document['mode']} run; {loads})", lambda: targets(r, quick)),
        ("baselines, ratios, the scheduler's curve", lambda: baselines(r)),
    ]
    if p := r.get("pipeline"):
        parts += [("cost account of one renewal (closed loop)", lambda: cost_rows(p))]
        parts += [("profile", lambda: profile_rows(p))]
    errors: list[Row] = [(name, error, "", "") for name, error in r.get("errors", {}).items()]
    parts.append(("benchmarks that failed (their figures are missing)", lambda: errors))
    out = "".join(render(title, rows()) for title, rows in parts)
    if quick:
        out += "quick run: small sizes and short windows; its percentiles are not reportable\n"
    return out


def plot(document: Json, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from hdrh.histogram import HdrHistogram

    r = document["results"]
    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    if s := r.get("scheduler"):
        totals = [p["total"] for p in s["empty_sweep"]]
        for label, points in (
            ("empty sweep", s["empty_sweep"]),
            ("first sweep after loading", [p["first_sweep"] for p in s["empty_sweep"]]),
        ):
            medians = [p["median"] for p in points]
            low = [p["median"] - p["min"] for p in points]
            high = [p["max"] - p["median"] for p in points]
            left.errorbar(totals, medians, yerr=[low, high], marker="o", capsize=4, label=label)
        left.axhline(s["targets"]["empty_sweep_ms"], color="red", linestyle="--", label="target")
        left.set_xscale("log")
        left.set_yscale("log")
        left.set_xlabel("services in the database")
        left.set_ylabel("ms, nothing due")
        left.set_title("Scheduler: sweep with nothing due vs total")
        left.legend()
    curves: list[tuple[str, Any]] = []
    if p := r.get("pipeline"):
        curves.append(("renewal pipeline (open loop)", p["latency_histogram"]))
    for label, encoded in curves:
        hist = HdrHistogram.decode(encoded)
        percentiles = [50, 75, 90, 95, 99, 99.5, 99.9, 100]
        values = [hist.get_value_at_percentile(q) / 1000 for q in percentiles]
        right.plot(range(len(percentiles)), values, marker="o", label=label)
        right.set_xticks(range(len(percentiles)), [f"p{q:g}" for q in percentiles])
    if p:
        right.axhline(500, color="red", linestyle="--", label="p99 target")
        right.set_yscale("log")
        right.set_ylabel("end-to-end latency (ms)")
        right.set_title(f"Pipeline latency at {p['open_loop']['rate']:.2f} renewals/s")
        right.legend()
    figure.suptitle(f"Rinnovo bench, {document['mode']} run, {document['started_at'][:16]}")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
