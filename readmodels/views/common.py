"""Small pure helpers shared by the read-time views: dates, time zones, roles, merged course facts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from events.base import format_time, parse_time
from readmodels import fieldnames
from readmodels.facts import UserFacts

VERIFIED_TYPE_MODES = frozenset({"verified", "professional", "credit", "executive-education", "masters"})
STAFF_ROLES = frozenset({"staff", "instructor"})


@dataclass(frozen=True)
class ViewConfig:
    """The deployment URLs and knobs the views need (built from Settings by the API)."""

    lms_base_url: str = "http://localhost:18000"
    account_mfe_url: str = "http://localhost:1997"
    ecommerce_url: str = "http://localhost:18130"
    linkedin_org_id: str | None = None
    streak_lengths: tuple[int, ...] = (3,)
    platform_name: str = "Open edX"


def time_or_none(value: Any) -> datetime | None:
    """An RFC 3339 string from a stored document -> aware UTC datetime (None stays None)."""
    if not value or not isinstance(value, str):
        return None
    return _time(value)


@lru_cache(maxsize=8192)
def _time(text: str) -> datetime | None:
    """Course documents and learner facts repeat the same times on every read: parse each text
    once (datetimes are immutable, so sharing them is safe)."""
    try:
        return parse_time(text)
    except ValueError:
        return None


def fmt(value: datetime | None) -> str | None:
    return None if value is None else format_time(value)


def zone(name: Any) -> tzinfo | None:
    """A valid IANA zone (legacy ICU aliases such as Europe/Kiev included), else None."""
    if not isinstance(name, str) or not name or len(name) > 64 or ".." in name or name.startswith("/"):
        return None
    return _zone(name)


@lru_cache(maxsize=1024)
def _zone(name: str) -> tzinfo | None:
    """Zones are immutable; an unknown name costs a search of the tz path, so misses are kept too."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def api_time(value: Any) -> str | None:
    """A stored RFC 3339 time in the API's format (None when absent or unparseable)."""
    return _api_time(value) if value and isinstance(value, str) else None


@lru_cache(maxsize=4096)
def _api_time(text: str) -> str | None:
    """Course documents repeat the same few times on every read: parse and format each text once."""
    return fmt(time_or_none(text))


def effective_course(
    course: dict[str, Any], course_version: str, catalog: tuple[str, dict[str, Any]] | None
) -> dict[str, Any]:
    """The published course with catalog info applied when the catalog event is newer."""
    if catalog is None or catalog[0] <= course_version:
        return course
    info = catalog[1]
    merged = dict(course)
    merged["display_name"] = info.get("name") or course.get("display_name")
    for name in ("start", "end", "enrollment_start", "enrollment_end", "pacing", "invitation_only"):
        if name in info:
            merged[name] = info[name]
    return merged


_MERGED: dict[tuple[int, int], tuple[dict[str, Any], tuple[str, dict[str, Any]], str, dict[str, Any]]] = {}
MAX_MERGED = 512


def shared_effective_course(
    course: dict[str, Any], course_version: str, catalog: tuple[str, dict[str, Any]] | None
) -> dict[str, Any]:
    """effective_course of documents shared between requests and never changed (the readers'
    parsed documents, readmodels/parsed.py): a merged course is made once per (course, catalog)
    pair and shared as well (so the course view's per-document head applies to it too)."""
    if catalog is None or catalog[0] <= course_version:
        return course
    key = (id(course), id(catalog))
    hit = _MERGED.get(key)
    if hit is not None and hit[0] is course and hit[1] is catalog and hit[2] == course_version:
        return hit[3]
    merged = effective_course(course, course_version, catalog)
    if len(_MERGED) >= MAX_MERGED:
        _MERGED.clear()
    _MERGED[key] = (course, catalog, course_version, merged)  # holds both: their ids are not reused meanwhile
    return merged


def is_course_staff(roles: UserFacts, course_key: str, org: str) -> bool:
    """A granted staff/instructor role for this course, or for its whole org (empty course key)."""
    for name, granted in roles.with_prefix(fieldnames.F_ROLE_PREFIX).items():
        if granted is not True:
            continue
        role_org, _, rest = name.partition("\t")
        role_course, _, role = rest.partition("\t")
        if role not in STAFF_ROLES:
            continue
        if role_course == course_key or (role_course == "" and role_org == org):
            return True
    return False

