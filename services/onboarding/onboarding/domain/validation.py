"""Field rules of an enrolment request: every problem is reported, each naming its field."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date
from enum import StrEnum
from typing import Any, TypeVar

from channelstream_common.countries import ISO_3166_ALPHA2

from onboarding.domain.model import Code, Partner, PartnerType, Rejection, Tier

PARTNER_ID = re.compile(r"[A-Z0-9-]{3,32}")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)
MAX_NAME = 200
FIELDS = (
    "partner_id",
    "legal_name",
    "partner_type",
    "tier",
    "parent_distributor_id",
    "territories",
    "exclusive_territories",
    "enrolled_on",
    "contact_email",
)
OPTIONAL = frozenset({"parent_distributor_id", "exclusive_territories"})

E = TypeVar("E", bound=StrEnum)


class Invalid(ValueError):
    """One field's value is unacceptable; the message says why."""


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise Invalid("must be a string")
    text = value.strip()
    if not text:
        raise Invalid("must not be empty")
    return text


def partner_id(value: Any) -> str:
    text = _text(value)
    if not PARTNER_ID.fullmatch(text):
        raise Invalid(f"{text!r} does not match [A-Z0-9-]{{3,32}}")
    return text


def legal_name(value: Any) -> str:
    text = " ".join(_text(value).split())
    if len(text) > MAX_NAME:
        raise Invalid(f"longer than {MAX_NAME} characters")
    if any(not ch.isprintable() for ch in text):
        raise Invalid("contains control characters")
    return text


def choice(kind: type[E]) -> Callable[[Any], E]:
    def parse(value: Any) -> E:
        text = _text(value).upper()
        try:
            return kind(text)
        except ValueError:
            allowed = ", ".join(m.value for m in kind)
            raise Invalid(f"{text!r} is not one of {allowed}") from None

    return parse


def country(value: Any) -> str:
    code = _text(value).upper()
    if code not in ISO_3166_ALPHA2:
        raise Invalid(f"{code!r} is not an ISO 3166-1 alpha-2 country code")
    return code


def countries(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list | tuple):
        raise Invalid("must be a list of ISO 3166-1 alpha-2 country codes")
    return tuple(sorted({country(v) for v in value}))


def some_countries(value: Any) -> tuple[str, ...]:
    found = countries(value)
    if not found:
        raise Invalid("at least one country code is required")
    return found


def iso_date(value: Any) -> date:
    text = _text(value)
    try:
        if not ISO_DATE.fullmatch(text):
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise Invalid(f"{text!r} is not an ISO date (YYYY-MM-DD)") from None


def email(value: Any) -> str:
    text = _text(value)
    local = text.rsplit("@", 1)[0]
    if len(text) > 254 or len(local) > 64 or not EMAIL.fullmatch(text):
        raise Invalid(f"{text!r} is not a valid e-mail address")
    return text


PARSERS: dict[str, Callable[[Any], Any]] = {
    "partner_id": partner_id,
    "legal_name": legal_name,
    "partner_type": choice(PartnerType),
    "tier": choice(Tier),
    "parent_distributor_id": partner_id,
    "territories": some_countries,
    "exclusive_territories": countries,
    "enrolled_on": iso_date,
    "contact_email": email,
}


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def parse_partner(raw: Mapping[str, Any]) -> Partner | Rejection:
    """A canonical Partner, or an INVALID_FIELD rejection listing every bad field."""
    problems: list[str] = [f"{name}: unknown field" for name in raw if name not in FIELDS]
    values: dict[str, Any] = {}
    for name in FIELDS:
        value = raw.get(name)
        if _blank(value):
            if name not in OPTIONAL:
                problems.append(f"{name}: required")
            continue
        try:
            values[name] = PARSERS[name](value)
        except Invalid as exc:
            problems.append(f"{name}: {exc}")
    values.setdefault("parent_distributor_id", None)
    values.setdefault("exclusive_territories", ())
    problems += _cross_field(values)
    if problems:
        given = raw.get("partner_id")
        pid = values.get("partner_id") or (given.strip() if isinstance(given, str) else "")
        return Rejection(Code.INVALID_FIELD, "; ".join(problems), pid)
    return Partner(**values)


def _cross_field(values: Mapping[str, Any]) -> list[str]:
    exclusive: tuple[str, ...] = values["exclusive_territories"]
    if not exclusive:
        return []
    kind = values.get("partner_type")
    if kind is not None and kind is not PartnerType.DISTRIBUTOR:
        return ["exclusive_territories: only distributors hold exclusive territories"]
    outside = [t for t in exclusive if t not in values.get("territories", exclusive)]
    if outside:
        return [f"exclusive_territories: {', '.join(outside)} not among territories"]
    return []
