"""The machine facts every benchmark result records (bench/common.py, bench/report.py)."""

from bench.common import machine, speed_probe
from bench.report import _machine


def test_the_speed_probe_reports_cpu_milliseconds_and_the_share_stolen():
    found = speed_probe()
    assert 1.0 < found["python_probe_ms"] < 5_000
    assert 0.0 <= found.get("steal_share", 0.0) <= 1.0


def test_a_result_names_the_machine_with_its_speed():
    info = machine()
    assert info["cores"] >= 1 and info["python_probe_ms"] > 0
    line = _machine({"machine": info})
    assert f"speed probe {info['python_probe_ms']} ms of CPU" in line and "steal" in line
