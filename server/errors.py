"""The one error vocabulary of every surface: an answer other than 200 as `{"code",
"description"}` (OGC API – Features' exception shape). Imports nothing of the server, so
storage and every surface can raise it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import orjson


class ApiError(Exception):
    """An answer other than 200: 400 for a bad request, 404 for an unknown resource."""

    def __init__(self, status: int, code: str, description: str):
        super().__init__(description)
        self.status, self.code, self.description = status, code, description

    def body(self) -> dict:
        return {"code": self.code, "description": self.description}


def bad(description: str) -> ApiError:
    return ApiError(400, "InvalidParameterValue", description)


def not_found(description: str) -> ApiError:
    return ApiError(404, "NotFound", description)


def one(args: Mapping[str, Any], name: str, error: Callable[[str], ApiError] = bad) -> str | None:
    """A parameter's one value, or None when absent. `args` is a request's MultiDict or maps
    names to lists of values (or to one value). Given twice is a 400 on every route: which of
    the two was meant is not the server's to guess."""
    getlist = getattr(args, "getlist", None)
    values = getlist(name) if getlist is not None else args.get(name)
    if values is None or isinstance(values, str):
        return values
    if len(values) > 1:
        raise error(f"parameter {name!r} is given more than once")
    return values[0] if values else None


def answer(exc: ApiError) -> tuple[int, dict, bytes]:
    """(status, headers, body) of an error: JSON, Chinese text kept as UTF-8."""
    return exc.status, {"Content-Type": "application/json"}, orjson.dumps(exc.body())
