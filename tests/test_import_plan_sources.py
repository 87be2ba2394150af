"""An app the config already has is recognised by its key whatever the key's source (issue 10,
point 15): ``api_key_env`` and ``api_key_cmd`` apps are not offered again as new. Real console
sessions against the simulator over loopback."""

from __future__ import annotations

import shlex
import sys

import pytest

from difytui import importer

DEMO = "Demo Workspace"


def _plan(sim, config):
    session = importer.login(sim.console_url, sim.account_email, sim.account_password)
    try:
        workspace = importer.pick_workspace(session.workspaces(), DEMO)
        with importer.in_workspace(session, workspace):
            return importer.build_plan(
                session,
                email=sim.account_email,
                workspace=workspace,
                config_path=config,
                config_workspace="mine",
            )
    finally:
        session.logout()
        session.close()


def _config(tmp_path, sim, app_table: str):
    path = tmp_path / "conf" / "config.toml"
    path.parent.mkdir()
    path.write_text(
        f'[workspaces.mine]\nbase_url = "{sim.base_url}"\n\n[workspaces.mine.apps.helpdesk]\n{app_table}\n'
    )
    return path


def _assert_known(plan, sim):
    uuid = sim.directory.by_slug("support-bot").uuid
    support = next(app for app in plan.apps if app.uuid == uuid)
    assert support.in_config and support.id == "helpdesk"
    assert support not in plan.new_apps
    assert not [app for app in plan.apps if app.id.startswith("support-bot")]


def test_an_app_whose_key_comes_from_the_environment_is_known(sim, tmp_path, monkeypatch):
    monkeypatch.setenv("HELPDESK_KEY", sim.api_keys["support-bot"])
    _assert_known(_plan(sim, _config(tmp_path, sim, 'api_key_env = "HELPDESK_KEY"')), sim)


def test_an_app_whose_key_is_in_the_imports_env_file_is_known(sim, tmp_path):
    config = _config(tmp_path, sim, 'api_key_env = "HELPDESK_KEY"')
    (config.parent / "difytui-keys.env").write_text(f"export HELPDESK_KEY='{sim.api_keys['support-bot']}'\n")
    _assert_known(_plan(sim, config), sim)


def test_an_app_whose_key_comes_from_a_command_is_known(sim, tmp_path):
    script = tmp_path / "key.py"
    script.write_text(f"print({sim.api_keys['support-bot']!r})\n")
    command = f"{shlex.quote(sys.executable)} {shlex.quote(str(script))}"
    config = _config(tmp_path, sim, "api_key_cmd = '''" + command + "'''")
    _assert_known(_plan(sim, config), sim)


@pytest.mark.parametrize("table", ['api_key_env = "UNSET_KEY"', 'api_key_cmd = "exit 3"'])
def test_a_key_source_that_gives_nothing_is_no_match_and_no_error(sim, tmp_path, table):
    plan = _plan(sim, _config(tmp_path, sim, table))
    assert not any(app.in_config for app in plan.apps)
