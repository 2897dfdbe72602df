"""`?username=` masquerade (API.md "Masquerade"): who may act as whom.

Resolution happens in two steps around the route's single Redis round trip: before it, the
requested username is checked against the caller (anonymous: 401; naming oneself: no masquerade);
the read script then resolves the username and returns the caller's roles, and `authorize` decides.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from api.auth import Caller
from api.errors import ApiError, shown
from readmodels.readers import Who
from readmodels.views.common import is_course_staff


@dataclass(frozen=True)
class Effective:
    user_id: int | None  # whose data is served (None: anonymous)
    masquerading: bool  # staff acting as someone else
    caller_is_staff: bool  # global staff, or course staff for this course


def requested_username(request: Request, caller: Caller | None) -> str:
    """The username to resolve in the read script ("" for none or oneself)."""
    username = request.query_params.get("username")
    if not username:
        return ""
    if caller is None:
        raise ApiError(401, "Authentication required to view another user's data.")
    return "" if username == caller.username else username


def authorize(caller: Caller | None, requested: str, who: Who, course_key: str, org: str | None) -> Effective:
    staff = caller is not None and (caller.is_global_staff or is_course_staff(who.caller_roles, course_key, org or ""))
    if requested:
        if not staff:
            raise ApiError(403, "You do not have permission to view another user's data for this course.")
        if who.unknown_username:
            raise ApiError(404, f"User not found: '{shown(requested, 100)}'.")
    masquerading = bool(requested) and caller is not None and who.user_id != caller.user_id
    return Effective(who.user_id, masquerading, staff)
