"""The site's static files: everything under static/ but the editor bundle's build inputs
(static/build/: package files and, where `make vendor` ran, node_modules), which are not the site's."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

NOT_SERVED = ("build",)


class SiteStaticFiles(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        if path.split("/", 1)[0] in NOT_SERVED or path.split("\\", 1)[0] in NOT_SERVED:
            raise HTTPException(status_code=404)
        return await super().get_response(path, scope)
