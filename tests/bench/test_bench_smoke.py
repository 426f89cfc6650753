"""The benchmark suite's quick mode still runs and writes its figures (not a benchmark)."""

import json
import statistics
from pathlib import Path

import pytest

from rinnovo.devstack.stack import LocalStack
from rinnovo_bench.__main__ import main

pytestmark = pytest.mark.integration


def test_quick_baselines_write_positive_figures(
    local_stack: LocalStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in local_stack.env().items():
        monkeypatch.setenv(name, value)  # the session's servers, not a second stack
    assert main(["--quick", "--only", "baselines", "--out", str(tmp_path), "--no-plot"]) == 0

    latest = json.loads((tmp_path / "latest-quick.json").read_text())
    assert latest["mode"] == "quick"
    assert latest["machine"]["nproc"] >= 1
    baselines = latest["results"]["baselines"]
    for figure in ("B_k", "B_k_batch", "B_m", "B_m_guarded", "B_m_bulk", "B_v"):
        summary = baselines[figure]
        assert len(summary["runs"]) == 3
        assert 0 < summary["min"] <= summary["median"] <= summary["max"]
    assert len(list(tmp_path.glob("*.json"))) == 2


def test_quick_tracing_measures_the_pipeline_with_tracing_off_and_on(
    local_stack: LocalStack,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in local_stack.env().items():
        monkeypatch.setenv(name, value)
    assert main(["--quick", "--only", "tracing", "--out", str(tmp_path), "--no-plot"]) == 0

    tracing = json.loads((tmp_path / "latest-quick.json").read_text())["results"]["tracing"]
    cpu = tracing["cpu_ms_per_renewal"]
    for measured in (tracing, cpu["services"], cpu["with_servers"]):
        for figure in (measured["off"], measured["on"]):
            assert len(figure["runs"]) == 3
            assert 0 < figure["min"] <= figure["median"] <= figure["max"]
        pairs = zip(measured["on"]["runs"], measured["off"]["runs"], strict=True)
        assert measured["on_vs_off"]["median"] == statistics.median(on / off for on, off in pairs)
    assert cpu["servers"] == []  # the session's servers: their CPU is not the bench's to count
    # Every renewal's HTTP requests, its events' publishes and consumptions and their
    # database commands reached the sink: tens of spans, not a stray few.
    assert tracing["spans_per_renewal"] >= 10
    assert tracing["targets"] == {"on_vs_off": 0.9}
    table = capsys.readouterr().out
    assert "tracing on / off" in table
    assert ("met" if tracing["on_vs_off"]["median"] >= 0.9 else "MISSED") in table
