import json
import logging
from collections.abc import Callable, Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.ops import logs


@pytest.fixture
def capture() -> Iterator[Callable[[str], None]]:
    def configure(fmt: str) -> None:
        logs.configure_logging(fmt, "DEBUG")

    yield configure
    logging.getLogger().handlers.clear()


def test_registered_secret_never_reaches_a_log_line(
    capture: Callable[[str], None], capsys: pytest.CaptureFixture[str]
) -> None:
    capture("text")
    logs.register_secret("s3cr3t-signing-value")
    try:
        raise ValueError("bad secret s3cr3t-signing-value in url")
    except ValueError:
        logging.getLogger("t").exception("failed with %s", "s3cr3t-signing-value")
    err = capsys.readouterr().err
    assert "s3cr3t-signing-value" not in err
    assert err.count(logs.REDACTED) >= 2


def test_unregistered_slack_token_is_redacted_by_shape(
    capture: Callable[[str], None], capsys: pytest.CaptureFixture[str]
) -> None:
    capture("text")
    logging.getLogger("t").warning("token xoxb-1234-5678-abcdefgh leaked")
    err = capsys.readouterr().err
    assert "xoxb-1234" not in err
    assert logs.REDACTED in err


def test_json_lines_carry_the_request_id(
    capture: Callable[[str], None], capsys: pytest.CaptureFixture[str]
) -> None:
    capture("json")
    rid = logs.new_request_id()
    logging.getLogger("t").info("hello %s", "world")
    line = capsys.readouterr().err.strip().splitlines()[-1]
    entry = json.loads(line)
    assert entry["message"] == "hello world"
    assert entry["request_id"] == rid
    assert entry["level"] == "info"


@given(st.lists(st.floats(min_value=0, max_value=4e9), min_size=1, max_size=20))
def test_text_lines_carry_the_same_time_as_loggings_own_format(times: list[float]) -> None:
    # the second is rendered once and reused: any order of times must still read right
    ours = logs._TextFormatter("%(asctime)s %(message)s")
    standard = logging.Formatter("%(asctime)s %(message)s")
    for created in times + sorted(times):
        record = logging.makeLogRecord({"msg": "m", "created": created})
        record.msecs = int((created - int(created)) * 1000)
        assert ours.format(record) == standard.format(record)
