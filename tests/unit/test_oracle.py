"""The comparison `lp verify` and the history test report with."""

from __future__ import annotations

from projectors.oracle import Difference, FieldDifference, compare, report


def test_compare_equal_dumps_reports_nothing() -> None:
    dump = {"u:1": {"a": "1\t2"}, "course:x": "1\t{}", "ua:1": {"m": 5}}
    assert compare(dump, dict(dump)) == []
    assert report([]) == "no differences"


def test_compare_reports_only_the_differing_fields_of_an_entity() -> None:
    a = {"u:1": {"a": "1\t2", "b": "1\ttrue", "c": "1\t0"}}
    b = {"u:1": {"a": "1\t2", "b": "2\tfalse", "d": "1\t0"}}
    assert compare(a, b) == [Difference("u:1", (
        FieldDifference("b", "1\ttrue", "2\tfalse"),
        FieldDifference("c", "1\t0", None),
        FieldDifference("d", None, "1\t0"),
    ))]


def test_compare_reports_missing_entities_and_string_values_sorted_by_key() -> None:
    diffs = compare({"z": "1\tx", "course:x": "1\t{}"}, {"course:x": "2\t{}", "ua:1": {"m": 1}})
    assert [d.key for d in diffs] == ["course:x", "ua:1", "z"]
    assert diffs[0].fields == (FieldDifference("", "1\t{}", "2\t{}"),)
    assert diffs[1].fields == (FieldDifference("m", None, 1),)
    assert diffs[2].fields == (FieldDifference("", "1\tx", None),)
    assert "3 entities differ" in report(diffs) and "course:x:" in report(diffs)
