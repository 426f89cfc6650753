"""The table ``rinnovo run all`` prints says where each service's metrics are, when they are."""

from rinnovo.runtime.settings import ServiceSettings


def rows(**values: object) -> dict[str, str]:
    return dict(ServiceSettings.model_validate(values).addresses("orders"))


def test_metrics_are_listed_on_their_own_port_when_one_is_set() -> None:
    table = rows(http_port=8002, metrics_port=9102)
    assert table["orders API docs"] == "http://127.0.0.1:8002/docs"
    assert table["orders metrics"] == "http://127.0.0.1:9102/metrics"


def test_metrics_are_listed_on_the_api_port_in_development_mode_only() -> None:
    assert rows(http_port=8002, RINNOVO_DEV_MODE=True)["orders metrics"] == (
        "http://127.0.0.1:8002/metrics"
    )
    assert "orders metrics" not in rows(http_port=8002, RINNOVO_DEV_MODE=False)
