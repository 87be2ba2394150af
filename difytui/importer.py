"""Import a Dify workspace's apps from the console into the config: the logic the CLI and TUI share.

The one import for all of it; the steps, each usable on its own by a UI, live in their own modules:

1. :func:`login` — a :class:`ConsoleSession` logged in; :func:`pick_workspace` chooses among the
   account's workspaces (or says the user must); steps 2 and 3 run ``with in_workspace(…)``, which
   switches the account to it and back again afterwards (:mod:`difytui.import_workspace`).
2. :func:`build_plan` — every app of the workspace with its interface, its existing keys, whether
   its API is enabled, and the config id it has (matched by ``app_uuid``) or would get
   (:mod:`difytui.import_plan`).
3. :func:`execute` — for the apps the user picked: reuse a key, or create one (only when
   ``Choices.create_keys``), enable the API (only when ``Choices.enable_api``); the result is a
   :class:`WorkspaceUpdate` plus what happened to each app (:mod:`difytui.import_apply`).
4. :func:`save` — write the config (and the env file) with :mod:`config_writer`
   (:mod:`difytui.import_save`).

:func:`check_destination` says early whether step 4 can succeed; :func:`build_plan` and :func:`execute`
run it themselves, so no key is created for an import whose config cannot be written.

Nothing here prints or prompts; keys stay in :class:`Secret` until written to a 0600 file.

:func:`slugify` and :func:`default_config_path` are the package's single versions of those helpers
(``difytui login`` uses them too).
"""

from __future__ import annotations

from difytui.import_apply import (
    KEY_DESTINATIONS,
    Choices,
    ImportResult,
    KeyDestination,
    check_key_cmd,
    env_var_name,
    execute,
    key_command,
)
from difytui.import_plan import GROUPS, ImportPlan, PlannedApp, build_plan, config_workspace_name, slugify
from difytui.import_save import ENV_FILE_NAME, check_destination, default_config_path, env_file_path, save
from difytui.import_workspace import ImportUsageError, in_workspace, login, pick_workspace, use_workspace

__all__ = [
    "ENV_FILE_NAME",
    "GROUPS",
    "KEY_DESTINATIONS",
    "Choices",
    "ImportPlan",
    "ImportResult",
    "ImportUsageError",
    "KeyDestination",
    "PlannedApp",
    "build_plan",
    "check_destination",
    "check_key_cmd",
    "config_workspace_name",
    "default_config_path",
    "env_file_path",
    "env_var_name",
    "execute",
    "in_workspace",
    "key_command",
    "login",
    "pick_workspace",
    "save",
    "slugify",
    "use_workspace",
]
