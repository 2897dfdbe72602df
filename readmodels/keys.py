"""Every Redis key format of the project, in one place (the field names inside the hashes are
readmodels/fieldnames.py).

Layout (all model keys live under a generation prefix `<ns>:g<gen>:`):

    <ns>:serving                      generation number the API reads (string)
    <ns>:gens                         set of generations that exist (for cleanup)
    <ns>:applied   (pub/sub channel)  checkpoints as they are applied: freshness waits
    <ns>:changed   (pub/sub channel)  logical keys that changed: long polling
    <ns>:ops:ends                     hash  source topic offsets reported by the projector (expires)
    <ns>:ops:samples                  list  the projector's status samples, newest first (capped)

    <p>ckpt                           hash  "<topic>:<partition>" -> next offset to apply
    <p>course:<course_key>            str   LWW snapshot of the published course (no outline)
    <p>parts:course:<course_key>      str   which hashes the snapshot owns whole (JSON: cseq:, cblk:)
    <p>cseq:<course_key>              hash  sequence key -> sequence document (from the snapshot)
    <p>cblk:<course_key>              hash  block key -> "<type>\t<unit key>\t<sequence key>" (from the snapshot)
    <p>ccat:<course_key>              hash  field "info": LWW catalog info override
    <p>prog:<uuid>                    str   LWW snapshot of a catalog program (or null when deleted)
    <p>parts:prog:<uuid>              str   which hash fields the snapshot owns (JSON)
    <p>runprogs:<course_key>          hash  program uuid -> program document (from program snapshots)
    <p>u:<user_id>                    hash  the learner's facts, LWW per field (fieldnames.py); a field
                                            naming a course is stored as `<i><tail>` (`0e`), <i>
                                            the course's index in the learner's course dictionary,
                                            kept in the same hash (readmodels/learner_dictionary.py)
    <p>uc:<user_id>:<course_key>      hash  the learner's per-block facts in one course, LWW per field:
                                            `<i>`  -> compact completion record (readmodels/compact.py)
                                            `p<i>` -> sequence position `<version>\t<json>`
                                            `b<i>` -> bookmark `<version>\t<json>`
                                            where <i> is the block's index in bid:<course_key>
    <p>bid:<course_key>               hash  the course's block dictionary: completion_field -> index and
                                            index -> completion_field (indexes 0, 1, ... in order of
                                            first sight, assigned by writer.lua; never reassigned)
    <p>ua:<user_id>                   zset  activity buckets, last 15 days (visits and completions):
                                            activity_member -> bucket number, stored with the
                                            course's index in the learner's course dictionary
                                            (readmodels/learner_dictionary.py)
    <p>unames                         hash  username -> user id (LWW)
    <p>cl:<course_key>                set   ids of the learners with facts in the course (enrollment,
                                            grade, certificate, completion): the change records of
                                            a course republish or program change fan out over it

Hash values written by LWW operations are `<version>\t<json>`; `version` sorts as bytes: exact
(events.base.lww_version) for reference data, compact for learner keys (readmodels/compact.py:
the ce_id tie-break cut to its first 13 characters). Completion records are `<compact version>
<completion>` with no tab. Dictionary indexes depend on arrival order, so everything that compares
stored states (memory.dump_redis, tools/verify.py) reads `uc:` fields back through `bid:` and leaves
`bid:` itself out; the in-memory stores keep the canonical fields (`block_fact_field`). Positions and
bookmarks are not in u:<user_id>: the sequence read script returns them among the learner's facts
under f_position / f_bookmark.
Keys are built from strings that came through validated events (opaque keys, ints, UUIDs);
they are never used as patterns.

Hash tags (Redis Cluster; see CONTROL_TAG below): the key shapes above carry a tag in braces, the
part a cluster hashes: `u:{u<user_id>}`, `uc:{u<user_id>}:<course_key>`, `ua:{u<user_id>}`, the
course documents `<kind>:{<course_key>}`, `prog:{progs}<uuid>` and `runprogs:{progs}<course_key>`,
and the control keys `<ns>:serving:{ctl}`, `<ns>:gens:{ctl}`, `<p>ckpt:{ctl}`, `<ns>:outbox:{ctl}`.

Stamps: `<p>stamp:{<tag>}` (a counter, in the slot of the keys it stands for) is bumped by every
write that changes a key of hash tag <tag> (writer.lua `touch`); the memoised read scripts return
the stamps of the tags they read, and a kept answer is served again only while they are unchanged
(read_stamps.lua, api/answer_memo.py). Their values depend on how writes were batched, so stored
states are compared without them, as without `bid:`.
"""

from __future__ import annotations

from functools import lru_cache

ACTIVITY_WINDOW_US = 15 * 86_400 * 1_000_000
ACTIVITY_BUCKET_US = 15 * 60 * 1_000_000  # 15 minutes: fine enough for any time zone's day boundary
# Activity scores are bucket numbers (microseconds // ACTIVITY_BUCKET_US: a 3-byte integer in a
# listpack instead of 8), so the window is kept in buckets too; readers turn scores back into
# microseconds (the bucket's start).
ACTIVITY_WINDOW_BUCKETS = ACTIVITY_WINDOW_US // ACTIVITY_BUCKET_US


# Hash tags (Redis Cluster). A cluster hashes only the part of a key between the first `{` and the
# next `}`, so the keys one atomic script touches must carry the same tag: every key of one learner
# `{u<id>}`, every document of one course `{<course key>}`, the program catalogue (programs and the
# run -> programs index their snapshots write together) `{progs}`, and the control keys (serving
# pointer, generations, checkpoints of every generation, outbox) `{ctl}`, so that the switch
# compares checkpoints and moves the pointer in one script. On a single Redis the braces are only
# a few bytes. Namespaces, course keys and user ids never contain braces (opaque keys, ints).
CONTROL_TAG = "{ctl}"
PROGRAMS_TAG = "{progs}"


# Pure functions of a course or block key that the projection calls for every event are memoised
# (a history names a bounded set of courses, blocks and field names; the caches are bounded too).
MEMO_SIZE = 65536


def _learner_tag(user_id: int | str) -> str:
    return f"{{u{user_id}}}"


def _course_tag(course_key: str) -> str:
    return f"{{{course_key}}}"


def untag(tagged: str) -> str:
    """The course key (or user id with its `u`) inside a tag at the start of `tagged`."""
    return tagged[1 : tagged.index("}")] if tagged.startswith("{") else tagged


def serving(ns: str) -> str:
    return f"{ns}:serving:{CONTROL_TAG}"


def generations(ns: str) -> str:
    return f"{ns}:gens:{CONTROL_TAG}"


def applied_channel(ns: str) -> str:
    return f"{ns}:applied"


def changed_channel(ns: str) -> str:
    return f"{ns}:changed"


def prefix(ns: str, generation: int) -> str:
    return f"{ns}:g{generation}:"


# Logical keys (relative to the generation prefix).

CHECKPOINTS = f"ckpt:{CONTROL_TAG}"
STAMP_PREFIX = "stamp:"


def hash_tag(key: str) -> str:
    """What Redis Cluster hashes of a key: the text between its first `{` and the next `}` when
    that is not empty, else the whole key (writer.lua `touch` and read_stamps.lua `tag_of` take it
    so, from full keys)."""
    start = key.find("{")
    if start >= 0:
        end = key.find("}", start + 1)
        if end > start + 1:
            return key[start + 1 : end]
    return key


def stamp(tag: str) -> str:
    """The logical stamp key of a hash tag (see the module docstring)."""
    return f"{STAMP_PREFIX}{{{tag}}}"
USERNAMES = "unames"


COURSE_PREFIX = "course:"
PROGRAM_PREFIX = f"prog:{PROGRAMS_TAG}"
COURSE_BLOCKS_PREFIX = "cblk:"
COURSE_CATALOG_PREFIX = "ccat:"
RUN_PROGRAMS_PREFIX = f"runprogs:{PROGRAMS_TAG}"
USER_PREFIX = "u:"
BLOCK_IDS_PREFIX = "bid:"


def course(course_key: str) -> str:
    return f"{COURSE_PREFIX}{_course_tag(course_key)}"


def course_of(key: str) -> str:
    """The course key of a course document key (`course`, `course_catalog`, `course_blocks`, ...)."""
    return untag(key.partition(":")[2])


def snapshot_parts(snapshot_key: str) -> str:
    """Where a snapshot records the hash fields it owns. A separate namespace, so that no
    course or program key (a course run may contain ':') can collide with it."""
    return f"parts:{snapshot_key}"


def course_sequences(course_key: str) -> str:
    return f"cseq:{_course_tag(course_key)}"


def course_blocks(course_key: str) -> str:
    return f"{COURSE_BLOCKS_PREFIX}{_course_tag(course_key)}"


def course_catalog(course_key: str) -> str:
    return f"{COURSE_CATALOG_PREFIX}{_course_tag(course_key)}"


def program(uuid: str) -> str:
    return f"{PROGRAM_PREFIX}{uuid}"


def run_programs(course_key: str) -> str:
    return f"{RUN_PROGRAMS_PREFIX}{course_key}"


def user(user_id: int) -> str:
    return f"{USER_PREFIX}{_learner_tag(user_id)}"


def user_id_of(key: str) -> int | None:
    """The learner of a `user` key; None for any other key."""
    if not key.startswith(USER_PREFIX):
        return None
    return _learner_of(key[len(USER_PREFIX) :])


def _learner_of(rest: str) -> int | None:
    """The user id of a key's rest that starts with a learner tag (`{u42}...`); None otherwise."""
    tag = untag(rest)
    return int(tag[1:]) if tag != rest and tag[:1] == "u" and tag[1:].isdigit() else None


def completions(user_id: int, course_key: str) -> str:
    return f"uc:{_learner_tag(user_id)}:{course_key}"


def block_ids(course_key: str) -> str:
    """The block dictionary of a course: `completion_field` -> index and index -> `completion_field`
    in one hash (a completion field is `<type>@<id>` or a usage key, never all digits)."""
    return f"{BLOCK_IDS_PREFIX}{_course_tag(course_key)}"


# Tags of the per-block facts kept beside the completion records (`completions` key), and their
# canonical field prefixes in the in-memory stores and dumps (`block_fact_field`).
POSITION_TAG = "p"
BOOKMARK_TAG = "b"
_BLOCK_FACT_PREFIX = {"": "", POSITION_TAG: "pos:", BOOKMARK_TAG: "bm:"}


def block_fact_field(tag: str, field: str) -> str:
    """The canonical field of a per-block fact: the completion field itself for a completion
    record, `pos:` / `bm:` before it for a position / bookmark (a completion field never has a
    `pos:` or `bm:` prefix: it is `<type>@<id>` or a usage key)."""
    return _BLOCK_FACT_PREFIX[tag] + field


def completions_course(logical_key: str) -> str | None:
    """The course key of a `completions` key; None for any other key."""
    kind, _, rest = logical_key.partition(":")
    if kind != "uc":
        return None
    tag, sep, course_key = rest.partition("}:")
    return course_key if sep and _learner_of(tag + "}") is not None else None


@lru_cache(maxsize=MEMO_SIZE)
def completion_field(course_key: str, block_key: str) -> str:
    """The field of a block in `completions(user, course_key)`: short when the block is one of the
    course's own `block-v1:<org>+<course>+<run>+type@<type>+block@<id>` keys, `<type>@<id>`;
    otherwise the full key. Every usage key has a `:` (after its scheme) and a short field never
    has one, and a short field is used only when `completion_block` gives the key back exactly,
    so the two functions are inverse."""
    head = _block_head(course_key)
    if head and block_key.startswith(head):
        block_type, sep, block_id = block_key[len(head) :].partition("+block@")
        short = f"{block_type}@{block_id}"
        if sep and ":" not in short and completion_block(course_key, short) == block_key:
            return short
    return block_key


def completion_block(course_key: str, field: str) -> str:
    """The block key of a `completions` field (inverse of `completion_field`)."""
    if ":" in field:
        return field
    block_type, _, block_id = field.partition("@")
    return f"{_block_head(course_key)}{block_type}+block@{block_id}"


@lru_cache(maxsize=MEMO_SIZE)
def _block_head(course_key: str) -> str:
    """`block-v1:<org>+<course>+<run>+type@` of a `course-v1:` key; "" for other key forms."""
    scheme, sep, rest = course_key.partition(":")
    return f"block-v1:{rest}+type@" if sep and scheme == "course-v1" else ""


@lru_cache(maxsize=MEMO_SIZE)  # per completion and grade event; a history has few courses
def course_learners(course_key: str) -> str:
    """set of user ids (integers: an intset) with any learner-course fact in the course."""
    return f"cl:{_course_tag(course_key)}"


def activity(user_id: int) -> str:
    return f"ua:{_learner_tag(user_id)}"


def changed_learner(logical_key: str) -> int | None:
    """The learner a logical key on `changed_channel` belongs to (`u:`, `uc:`, `ua:` keys); None
    for reference data (courses, programs, usernames), which reads of any learner may join."""
    kind, _, rest = logical_key.partition(":")
    return _learner_of(rest) if kind in ("u", "uc", "ua") else None


def activity_member(kind: str, course_key: str, bucket: int) -> str:
    """kind: "v" (courseware visit) or "c" (block completion); `bucket` (the score) makes the member
    unique and is written in base 36 (readers take the time from the score, never from here).
    Stored with the course's index in the learner's course dictionary in place of the course key
    (readmodels/learner_dictionary.py)."""
    return f"{kind}\t{course_key}\t{_base36(bucket)}"


@lru_cache(maxsize=4096)  # bucket numbers of a history: a few per day, asked by every activity op
def _base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    sign, n = ("-", -n) if n < 0 else ("", n)
    out = digits[n % 36]
    while n >= 36:
        n //= 36
        out = digits[n % 36] + out
    return sign + out


# Generations and rebuilds (appended with the rebuild work).


def generation_channel(ns: str) -> str:
    """pub/sub channel: the serving generation changed (payload: the new generation)."""
    return f"{ns}:generation"


def rebuild_state(ns: str) -> str:
    """hash of the rebuild in progress: generation, source (the serving one when it started), group."""
    return f"{ns}:rebuild"


def rebuild_lock(ns: str) -> str:
    """string, with an expiry: the running rebuild's holder (JSON: token, pid, host, since)."""
    return f"{ns}:rebuild:lock"


def outbox(ns: str) -> str:
    """hash "<topic>:<partition>" -> change records computed for a live batch, not yet published."""
    return f"{ns}:outbox:{CONTROL_TAG}"


# Operational status (not read models: no generation). Written by the live projector in one
# transaction (readmodels/status.py), so both keys share a hash tag.
OPS_TAG = "{ops}"


def ops_ends(ns: str) -> str:
    """hash "<topic>:<partition>" -> JSON [start, end] offsets of the source topics, refreshed by the
    live projector every few seconds and expiring soon after it stops reporting (readiness)."""
    return f"{ns}:ops:ends:{OPS_TAG}"


def ops_samples(ns: str) -> str:
    """list of JSON samples (newest first, capped): lag per partition and cumulative counters."""
    return f"{ns}:ops:samples:{OPS_TAG}"
