"""The JSON documents stored for reference data (courses, sequences, programs).

Built once per snapshot event by the projector, read as they are by the API.
"""

from __future__ import annotations

from typing import Any

from events.catalog import ProgramSnapshot
from events.content import CoursePublishedData


def course_document(course: CoursePublishedData) -> dict[str, Any]:
    """Everything about the course but its outline (kept per sequence, see sequence_documents)."""
    doc = course.model_dump(mode="json", exclude={"outline"})
    doc["sequence_count"] = sum(len(ch.sequences) for ch in course.outline)
    return doc


def sequence_documents(course: CoursePublishedData) -> list[dict[str, Any]]:
    """One document per sequence. A sequence that is the prerequisite of others also lists them as
    `gates` (`[{block_key, min_score}]`, only when there are some), so the sequence route can tell
    from this one document whether the learner has fulfilled the gate it is (upstream's
    `_is_gate_fulfilled` banner) without reading the rest of the outline."""
    names = {seq.block_key: seq.display_name for ch in course.outline for seq in ch.sequences}
    gates: dict[str, list[dict[str, Any]]] = {}
    for ch in course.outline:
        for seq in ch.sequences:
            if seq.prerequisite is not None:
                gates.setdefault(seq.prerequisite.block_key, []).append(
                    {"block_key": seq.block_key, "min_score": seq.prerequisite.min_score}
                )
    docs: list[dict[str, Any]] = []
    for chapter in course.outline:
        for seq in chapter.sequences:
            doc = seq.model_dump(mode="json", exclude={"units"})
            doc["course_key"] = course.course_key
            doc["chapter"] = {"block_key": chapter.block_key, "display_name": chapter.display_name}
            if seq.prerequisite is not None:
                doc["prerequisite"]["display_name"] = names.get(seq.prerequisite.block_key)
            if seq.block_key in gates:
                doc["gates"] = gates[seq.block_key]
            doc["units"] = [
                {
                    "block_key": unit.block_key,
                    "display_name": unit.display_name,
                    "page_title": unit.page_title,
                    "icon": unit.icon,
                    "graded": unit.graded,
                    "contains_gated_content": unit.contains_gated_content,
                    "completable": [b.block_key for b in unit.blocks if b.completable],
                }
                for unit in seq.units
            ]
            docs.append(doc)
    return docs


def program_document(program: ProgramSnapshot) -> dict[str, Any]:
    return program.model_dump(mode="json")
