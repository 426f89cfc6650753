"""Which servers a test session starts: containers where Docker answers, else local ones."""

import pytest

from rinnovo.devstack.containers import choose_servers, docker_reachable
from rinnovo.devstack.errors import DevStackError


def reachable() -> bool:
    return True


def unreachable() -> bool:
    return False


@pytest.mark.parametrize(
    ("environ", "docker", "chosen"),
    [
        ({}, reachable, "containers"),
        ({}, unreachable, "local"),
        ({"RINNOVO_TEST_SERVERS": "auto"}, reachable, "containers"),
        ({"RINNOVO_TEST_SERVERS": "local"}, reachable, "local"),
        ({"RINNOVO_TEST_SERVERS": "containers"}, unreachable, "containers"),
        ({"RINNOVO_TEST_SERVERS": " Containers "}, reachable, "containers"),
        # Servers given in the environment are used as they are.
        ({"KAFKA_BOOTSTRAP_SERVERS": "k:9092"}, reachable, "local"),
        ({"MONGODB_URL": "mongodb://m/", "RINNOVO_TEST_SERVERS": "containers"}, reachable, "local"),
    ],
)
def test_the_choice(environ: dict[str, str], docker: object, chosen: str) -> None:
    assert choose_servers(environ, docker) == chosen  # type: ignore[arg-type]


def test_an_unknown_choice_is_refused() -> None:
    with pytest.raises(DevStackError, match="RINNOVO_TEST_SERVERS"):
        choose_servers({"RINNOVO_TEST_SERVERS": "docker"}, reachable)


def test_docker_is_found_unreachable_where_no_engine_answers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    assert docker_reachable() is False
