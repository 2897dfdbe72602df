"""Courseware routes: course metadata, resume, celebration, sequence metadata."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import CallerDep, ReadersDep
from readmodels import keys

router = APIRouter(prefix="/api/courseware")


@router.get("/course/{course_key:path}")
async def course_metadata(course_key: str, readers: ReadersDep, caller: CallerDep) -> Any:
    course_key = course_key.rstrip("/")
    user_id = caller.user_id if caller else None
    facts = await readers.course(course_key, user_id)
    if facts is None:
        return JSONResponse({"developer_message": f"Course not found: {course_key}"}, status_code=404)
    enrollment = facts.user.get(keys.f_enrollment(course_key)) if user_id is not None else None
    return {
        "id": course_key,
        "name": facts.course["display_name"],
        "enrollment": {"mode": enrollment["mode"], "is_active": enrollment["is_active"]}
        if enrollment
        else {"mode": None, "is_active": False},
    }
