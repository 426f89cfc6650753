"""The benchmark suite's quick mode still runs and writes its figures (not a benchmark)."""

import json
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
