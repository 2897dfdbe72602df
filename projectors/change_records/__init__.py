"""Change records for the projected topics (contract PROJECTED.md).

How a batch yields its records, without a second source of truth:
1. before the batch is written, one pipelined read fetches the facts the four models need for the
   learners and courses the batch touches (reader.py, called by `outbox.ChangeRecorder.prefetch`);
2. the batch's operations are replayed per event on those facts in memory, with exactly the
   writer's semantics (readmodels/memory.py), giving each model's state before and after every
   event (replay.py); which model keys an operation reaches is touches.py, and a model's state
   is computed by the same rule functions the API calls (states.py over readmodels/views);
3. a record (record.py) is made for every model key whose state differs; no-op events make none;
4. the records are held in the outbox with the batch's write and released once published (outbox.py).

Clock-dependent values (program counts) are computed as of the causing event's `ce_time`, so a
replay of the same history gives the same records; `ce_id` is a UUIDv5 of (event id, model, key).

Reference data fans out: a course republish (a new passing bar, a new outline) can change the
status and resume point of every learner of the course, a program change (or deletion) the
progress of every learner of its runs, old and new. The projections keep an index of the
learners of each course (`keys.course_learners`, an intset); a batch with such a snapshot reads
it, and those learners' facts in pipelines of 1,000, in more round trips; the replay computes
every reached key before and after the snapshot, so only real changes become records, in order.
"""
