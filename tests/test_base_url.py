"""A base_url httpx cannot request is one readable error, at config load or in the constructor."""

from __future__ import annotations

import asyncio

import pytest

from difytui.cli import main
from difytui.client import AsyncDify, Dify
from difytui.config import load_config
from difytui.errors import ConfigError, DifyError

BAD = ["http://[::1/v1", "http://localhost:99999/v1", "http://exa mple.com/v1", "http://host:port/v1"]


@pytest.mark.parametrize("url", BAD)
def test_the_cli_reports_a_malformed_base_url_in_one_line_with_file_and_line(capsys, tmp_path, url):
    path = tmp_path / "config.toml"
    path.write_text(f'[workspaces.w]\nbase_url = "{url}"\n[workspaces.w.apps.a]\napi_key = "app-x"\n')
    code = main(["--config", str(path), "invoke", "a"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and f"{path}:2:" in err and "not a valid URL" in err


def test_config_load_raises_config_error(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[workspaces.w]\nbase_url = "http://[::1/v1"\n[workspaces.w.apps.a]\napi_key = "app-x"\n')
    with pytest.raises(ConfigError, match="Invalid IPv6 URL"):
        load_config(path)


def test_the_environment_base_url_is_checked_too(monkeypatch):
    monkeypatch.setenv("DIFY_BASE_URL", "http://[::1/v1")
    monkeypatch.setenv("DIFY_API_KEY", "app-x")
    with pytest.raises(ConfigError, match="DIFY_BASE_URL"):
        load_config(None)


@pytest.mark.parametrize("client", [Dify, AsyncDify])
@pytest.mark.parametrize("url", BAD)
def test_the_constructor_raises_dify_error(client, url):
    with pytest.raises(DifyError, match="not a valid URL"):
        client(url, {"a": "app-x"})


def test_the_sync_driver_turns_invalid_url_into_dify_error():
    with Dify("http://localhost/v1", {"a": "app-x"}) as dify:
        dify.base_url = "http://[::1/v1"  # past the constructor's check: the driver must still hold
        with pytest.raises(DifyError, match="invalid URL"):
            dify.app.info("a")


def test_the_async_driver_turns_invalid_url_into_dify_error():
    async def call() -> None:
        async with AsyncDify("http://localhost/v1", {"a": "app-x"}) as dify:
            dify.base_url = "http://[::1/v1"
            await dify.app.info("a")

    with pytest.raises(DifyError, match="invalid URL"):
        asyncio.run(call())
