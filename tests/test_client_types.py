"""Scripts type-checking against the library see each client's real return types (mypy)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(importlib.util.find_spec("mypy") is None, reason="mypy is not installed")
def test_each_client_returns_its_own_types():
    checked = ROOT / "tests" / "typecheck" / "client_types.py"
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent", str(checked)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr


WRONG = """
import httpx
from difytui import AsyncDify, Dify

Dify(base_url="http://x/v1", transport=httpx.AsyncHTTPTransport())
AsyncDify(base_url="http://x/v1", transport=httpx.HTTPTransport())
Dify(base_url="http://x/v1", timeout="10")
"""


@pytest.mark.skipif(importlib.util.find_spec("mypy") is None, reason="mypy is not installed")
def test_a_client_refuses_the_other_clients_transport_and_untyped_arguments(tmp_path):
    checked = tmp_path / "wrong.py"
    checked.write_text(WRONG)
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent", str(checked)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert [line.split(":")[1] for line in errors] == ["5", "6", "7"], result.stdout
