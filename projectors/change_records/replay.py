"""A batch replayed per event on its pre-batch facts: the change records of real changes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from projectors.change_records.record import PROGRAM_PROGRESS, ChangeRecord
from projectors.change_records.states import MODEL_OF, states
from projectors.change_records.touches import fanout, learner_fact, replayed, touches
from projectors.pipeline import Projected
from readmodels.memory import MemoryStore
from readmodels.ops import Op


def records(
    store: MemoryStore, projected: Sequence[Projected], ops: Sequence[Op], generation: int
) -> list[ChangeRecord]:
    """Replay the batch per event on `store` (mutated) and return the records of real changes.

    A state computed after one event is the state before the next event that touches the same
    key, as long as only learner fields changed in between (a course, its blocks or its programs
    change other inputs, and program progress depends on the event's time): those are reused.
    A course republish or a program change reaches every learner of the courses concerned
    (`fanout`, over the `keys.course_learners` sets in `store`)."""
    out: list[ChangeRecord] = []
    known: dict[tuple[str, str], Any] = {}  # states of status, resume and celebrations keys, current
    for p in projected:
        event_ops = [op for op in ops[p.first_op : p.first_op + p.op_count] if replayed(op)]
        touched = [t for op in event_ops for t in (*touches(op), *fanout(op, store))]
        if not all(learner_fact(op) for op in event_ops):
            known.clear()
        if not touched:
            store.apply(event_ops)
            continue
        now = p.event.time
        missing = [t for t in touched if t[0] == "prog" or (MODEL_OF[t[0]], f"{t[1]}:{t[2]}") not in known]
        before = states(store, missing, now) if missing else {}
        store.apply(event_ops)
        after = states(store, touched, now)
        for (model, key), state in after.items():
            previous = before[(model, key)] if (model, key) in before else known.get((model, key))
            if state != previous:
                out.append(ChangeRecord(model, key, state, previous, p.message, p.event.id, p.event.type,
                                        p.event.time, generation))
            if model != PROGRAM_PROGRESS:
                known[(model, key)] = state
        for (model, key), previous in before.items():  # a program deleted, or no longer of that run
            if model == PROGRAM_PROGRESS and (model, key) not in after and previous is not None:
                out.append(ChangeRecord(model, key, None, previous, p.message, p.event.id, p.event.type,
                                        p.event.time, generation))
    return out
