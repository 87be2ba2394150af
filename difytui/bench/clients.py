"""The clients a suite runs on: one ``AsyncDify`` per workspace, and each target looked up once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from difytui.bench.model import Target
from difytui.errors import DifyError
from difytui.form_fields import FILE_CONTROLS, parse_form
from difytui.models import INTERFACE_BY_MODE, Interface

if TYPE_CHECKING:
    from difytui.async_client import AsyncDify


@dataclass(frozen=True)
class Endpoint:
    """A target as the server knows it: its client, app id and interface."""

    dify: AsyncDify
    app_id: str
    interface: Interface
    #: the form's file and file-list inputs: a case gives them as paths or URLs (see run_turn)
    file_inputs: frozenset[str] = frozenset()


class Clients:
    """One ``AsyncDify`` per workspace (None: the default one), made on first use, closed together.

    ``make(workspace)`` builds the client; ``endpoint(target)`` resolves the app (by id or name).
    """

    def __init__(self, make: Callable[[str | None], AsyncDify]) -> None:
        self._make = make
        self._clients: dict[str | None, AsyncDify] = {}
        self._endpoints: dict[Target, asyncio.Task[Endpoint]] = {}

    def client(self, workspace: str | None) -> AsyncDify:
        if workspace not in self._clients:
            self._clients[workspace] = self._make(workspace)
        return self._clients[workspace]

    async def endpoint(self, target: Target) -> Endpoint:
        """Raises ``DifyError`` (``AppNotFoundError`` for an unknown app) or ``ConfigError``.

        Each target is looked up once per suite, its failure included: the runs that start
        together wait for the same lookup, and a server that cannot be reached is asked once."""
        if target not in self._endpoints:
            self._endpoints[target] = asyncio.ensure_future(self._lookup(target))
        return await asyncio.shield(self._endpoints[target])  # one run cancelled: not the lookup

    async def _lookup(self, target: Target) -> Endpoint:
        dify = self.client(target.workspace)
        app_id = await dify.app.resolve(target.app)
        info = await dify.app.info(app_id)
        mode = str(info.get("mode") or "")
        interface = INTERFACE_BY_MODE.get(mode)
        if interface is None:
            raise DifyError(f"app {target.label!r} has mode {mode!r}, which difytui cannot run")
        form = parse_form(await dify.app.parameters(app_id))
        files = frozenset(field.variable for field in form if field.control in FILE_CONTROLS)
        return Endpoint(dify, app_id, interface, files)

    async def aclose(self) -> None:
        for lookup in self._endpoints.values():
            lookup.cancel()
        await asyncio.gather(*self._endpoints.values(), return_exceptions=True)
        self._endpoints.clear()
        for dify in self._clients.values():
            await dify.aclose()
        self._clients.clear()
