"""Paths from route names, without walking the route tree on every call.

FastAPI keeps included routers as a tree and ``app.url_path_for`` walks it for each link
(recomputing every router's version on the way): 15–110 µs a link, and a page has 15 to 40
links. Here the routes are listed once, by name, in matching order, and a link asks only the
routes of its name (a few µs); the answers are remembered, since most links of a page (the
navigation, the static files) are the same on every page. Same answers as the app's: the
first route of that name whose parameters fit wins, as in Starlette; anything else (a mount's
``name:child``) goes to the app's own resolver. The route table is fixed once the app is
built (``use_routes_of`` runs last in ``create_app``).
"""

from __future__ import annotations

from typing import Any

from fastapi.routing import iter_route_contexts
from starlette.applications import Starlette
from starlette.datastructures import URLPath
from starlette.routing import NoMatchFound

REMEMBERED = 4096  # links kept; past that the memory starts afresh (ids in links are unbounded)


class RoutePaths:
    def __init__(self, app: Starlette) -> None:
        self._resolve = app.url_path_for
        self._known: dict[tuple[str, tuple[tuple[str, Any], ...]], URLPath] = {}
        self._by_name: dict[str, list[Any]] = {}
        for route in iter_route_contexts(app.routes):
            if route.name:
                self._by_name.setdefault(route.name, []).append(route)

    def __call__(self, name: str, /, **path_params: Any) -> URLPath:
        key = (name, tuple(sorted(path_params.items())))
        try:
            return self._known[key]
        except KeyError:
            pass
        except TypeError:  # an unhashable parameter value: not remembered
            return self._find(name, path_params)
        path = self._find(name, path_params)
        if len(self._known) >= REMEMBERED:
            self._known.clear()
        self._known[key] = path
        return path

    def _find(self, name: str, path_params: dict[str, Any]) -> URLPath:
        for route in self._by_name.get(name, ()):
            try:
                path: URLPath = route.url_path_for(name, **path_params)
            except NoMatchFound:
                continue
            return path
        return self._resolve(name, **path_params)
