"""Checks shared by the map parsers: each names the file, the place and the field."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, NoReturn

from .errors import RegisterMapError


def shown(value: Any) -> str:
    """A value as the user wrote it, for a message."""
    if isinstance(value, str):
        return f"'{value}'"
    if value is None:
        return "nothing"
    return repr(value)


class Check:
    """Validation of one map file; every failure is a RegisterMapError."""

    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, where: str, code: str, **params: object) -> NoReturn:
        raise RegisterMapError(self.file, where, code, **params)

    def expect(self, cond: bool, where: str, code: str, **params: object) -> None:
        if not cond:
            self.fail(where, code, **params)

    def obj(self, value: Any, where: str, field: str) -> Mapping[str, Any]:
        self.expect(isinstance(value, dict), where, "not_object", field=field)
        return dict(value)

    def items(self, value: Any, where: str, field: str) -> list[Any]:
        self.expect(isinstance(value, list), where, "not_list", field=field)
        return list(value)

    def only(self, raw: Mapping[str, Any], allowed: Iterable[str], where: str) -> None:
        unknown = sorted(set(raw) - set(allowed))
        self.expect(not unknown, where, "unknown_fields", value=", ".join(unknown))

    def need(self, raw: Mapping[str, Any], field: str, where: str) -> Any:
        self.expect(field in raw, where, "missing", field=field)
        return raw[field]

    def integer(self, value: Any, where: str, field: str, low: int = 0, high: int = 65535) -> int:
        self.expect(
            isinstance(value, int) and not isinstance(value, bool) and low <= value <= high,
            where,
            "not_integer",
            field=field,
            low=low,
            high=high,
            value=shown(value),
        )
        return int(value)

    def number(self, value: Any, where: str, field: str, *, positive: bool = False) -> float:
        self.expect(
            isinstance(value, (int, float)) and not isinstance(value, bool),
            where,
            "not_number",
            field=field,
            value=shown(value),
        )
        if positive:
            self.expect(value > 0, where, "not_positive", field=field, value=shown(value))
        return float(value)

    def text(self, value: Any, where: str, field: str) -> str:
        self.expect(isinstance(value, str) and bool(value), where, "not_text", field=field,
                    value=shown(value))  # fmt: skip
        return str(value)

    def key(self, value: Any, where: str, field: str) -> str:
        self.expect(
            isinstance(value, str) and value.isidentifier() and value == value.lower(),
            where,
            "not_key",
            field=field,
            value=shown(value),
        )
        return str(value)

    def choice(self, value: Any, allowed: Iterable[str], where: str, field: str) -> str:
        options = list(allowed)
        self.expect(
            value in options,
            where,
            "unknown_choice",
            field=field,
            allowed=", ".join(options),
            value=shown(value),
        )
        return str(value)

    def version(self, value: Any, where: str, field: str) -> tuple[int, ...]:
        try:
            return parse_version(str(value))
        except ValueError:
            self.fail(where, "bad_version", field=field, value=shown(value))


def parse_version(text: str) -> tuple[int, ...]:
    """'2.0.1' -> (2, 0, 1)."""
    parts = tuple(int(part) for part in text.split("."))
    if not parts or any(part < 0 for part in parts):
        raise ValueError(text)
    return parts
