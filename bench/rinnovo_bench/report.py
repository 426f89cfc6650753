"""The table printed at the end of a run, and the plot."""

from pathlib import Path
from typing import Any

from rinnovo_bench.common import Json


def fig(s: Json | None, digits: int = 1) -> str:
    if not s:
        return "-"
    return f"{s['median']:.{digits}f} [{s['min']:.{digits}f}-{s['max']:.{digits}f}] {s['unit']}"


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def table(document: Json) -> str:
    r = document["results"]
    rows: list[tuple[str, str, str]] = []
    if b := r.get("baselines"):
        rows += [
            ("B_k raw aiokafka consume-forward-commit", fig(b["B_k"]), "baseline"),
            ("B_m raw update_one by _id", fig(b["B_m"]), "baseline"),
            ("B_m guarded {_id, version}", fig(b["B_m_guarded"]), "baseline"),
            ("B_v model_validate_json envelope", fig(b["B_v"], 0), "baseline"),
            ("topic union parse (the runtime's)", fig(b["topic_parse"], 0), "info"),
        ]
    if h := r.get("hop"):
        rows += [
            ("hop through the runtime", fig(h["hop"]), ""),
            ("hop / B_k", fig(h["vs_B_k"], 3), verdict(h["vs_B_k"]["median"] >= 0.5)),
            (
                f"hop / (B_m / {h['db_writes_per_message']} writes)",
                fig(h["vs_db_ceiling"], 3),
                verdict(h["vs_db_ceiling"]["median"] >= 0.8),
            ),
        ]
    if s := r.get("scheduler"):
        for point in s["empty_sweep"]:
            rows.append(
                (
                    f"sweep, 0 due, {point['total']:,} services",
                    fig(point, 1),
                    verdict(point["median"] <= s["targets"]["empty_sweep_ms"]),
                )
            )
            if "full_query_ms" in point:
                rows.append(
                    (
                        f"  full query (safety net), {point['total']:,} services",
                        f"{point['full_query_ms']:,.0f} ms",
                        "info",
                    )
                )
        d = s["due_milestones"]
        rows.append(
            (
                f"due milestones ({d['due_per_repetition']} among {d['total_services']:,})",
                fig(d["rate"]),
                verdict(d["rate"]["median"] >= s["targets"]["milestones_per_s"]),
            )
        )
    if a := r.get("api"):
        fixed = a["fixed_rate"]["latency_ms"]
        rows += [
            (
                f"card list, max rate ({a['customers']:,} customers)",
                f"{a['max_rate']['rate']:.1f} req/s",
                "info",
            ),
            (
                "card list p50/p99 at 500 req/s",
                f"{fixed.get('p50', 0):.1f} / {fixed.get('p99', 0):.1f} ms",
                verdict(fixed.get("p99", 1e9) <= 50 and a["fixed_rate"]["timeouts"] == 0),
            ),
            (
                f"card list p50/p99 at {a['half_max_rate']['rate']:.1f} req/s (half max)",
                "{p50:.1f} / {p99:.1f} ms".format(**a["half_max_rate"]["latency_ms"]),
                "info",
            ),
            (
                "generator alone p99 at 500 req/s (/health/live)",
                f"{a['generator_alone']['latency_ms'].get('p99', 0):.1f} ms",
                "info",
            ),
        ]
    if p := r.get("pipeline"):
        lat = p["open_loop"]["latency_ms"]
        rows += [
            ("pipeline max sustainable rate", fig(p["max_rate"], 2), "info"),
            (
                f"pipeline p50/p99/p99.9 at {p['open_loop']['rate']:.2f}/s",
                f"{lat.get('p50', 0):.0f} / {lat.get('p99', 0):.0f} / {lat.get('p99.9', 0):.0f} ms",
                verdict(lat.get("p99", 1e9) <= 500),
            ),
        ]
        for name, idle in p["rss_mib"]["idle"].items():
            loaded = p["rss_mib"]["under_load_peak"].get(name, 0.0)
            rows.append((f"RSS {name} idle / under load", f"{idle:.0f} / {loaded:.0f} MiB", "info"))
    width = max(len(n) for n, _, _ in rows) if rows else 10
    vwidth = max(len(v) for _, v, _ in rows) if rows else 10
    lines = [f"{'figure':<{width}}  {'median [min-max]':<{vwidth}}  target"]
    lines += [f"{n:<{width}}  {v:<{vwidth}}  {t}" for n, v, t in rows]
    return "\n".join(lines)


def plot(document: Json, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from hdrh.histogram import HdrHistogram

    r = document["results"]
    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    if s := r.get("scheduler"):
        totals = [p["total"] for p in s["empty_sweep"]]
        medians = [p["median"] for p in s["empty_sweep"]]
        low = [p["median"] - p["min"] for p in s["empty_sweep"]]
        high = [p["max"] - p["median"] for p in s["empty_sweep"]]
        left.errorbar(totals, medians, yerr=[low, high], marker="o", capsize=4, label="measured")
        left.axhline(s["targets"]["empty_sweep_ms"], color="red", linestyle="--", label="target")
        left.set_xscale("log")
        left.set_yscale("log")
        left.set_xlabel("services in the database")
        left.set_ylabel("sweep with 0 due (ms)")
        left.set_title("Scheduler: empty sweep vs total")
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
