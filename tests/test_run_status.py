"""``run_status``: a workflow_finished without a readable status says so, never "None"."""

from __future__ import annotations

import pytest

from difytui.models import UNKNOWN_STATUS, run_status


@pytest.mark.parametrize("data", [None, [], {}, {"status": None}, {"status": 1}, {"status": " "}])
def test_a_missing_status_is_unknown(data):
    assert run_status(data) == UNKNOWN_STATUS == "unknown"


def test_statuses_read_as_sent_and_an_early_stop_as_stopped():
    assert run_status({"status": "succeeded"}) == "succeeded"
    assert run_status({"status": "failed", "error": "Aborted: User requested stop"}) == "stopped"
