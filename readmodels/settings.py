"""The one settings class. Values come from `LP_*` environment variables with local defaults.

A bad value fails at start with an error naming the variable (pydantic-settings does that; the
`load_settings` helper turns it into one readable line).
"""

from __future__ import annotations

from functools import cached_property, lru_cache
from typing import Annotated, Any

from pydantic import AliasChoices, AwareDatetime, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

SOURCE_TOPICS = (
    "learning-course-enrollment-lifecycle",
    "learning-course-grade-lifecycle",
    "learning-certificate-lifecycle",
    "learning-completion",
    "learning-learner-activity",
    "content-course-lifecycle",
    "catalog-program-lifecycle",
)

PROJECTED_TOPICS = (
    "projected-learner-course-status",
    "projected-resume-point",
    "projected-celebrations",
    "projected-program-progress",
)


class SettingsError(ValueError):
    """A setting from the environment is invalid; the message names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LP_", extra="ignore", frozen=True)

    kafka_bootstrap: str = "127.0.0.1:9092"
    redis_url: str = "redis://127.0.0.1:6379/0"
    # Prefix of every Redis key of ours, so several deployments (or tests) can share one Redis.
    redis_namespace: str = "lp"
    # Prefixed to every topic name as it is (tests use "t1234."); LP_EVENT_BUS_TOPIC_PREFIX joins with
    # "-" as the LMS's EVENT_BUS_TOPIC_PREFIX does, so an operator copies that value. Both may be set.
    topic_prefix: str = ""
    event_bus_topic_prefix: str = ""
    # The topics the projector consumes (before the prefixes; comma-separated in LP_SOURCE_TOPICS).
    # Every event type is accepted on every one of them, JSON and Avro mixed.
    source_topic_names: Annotated[list[str], NoDecode] = Field(
        default=list(SOURCE_TOPICS), validation_alias=AliasChoices("source_topic_names", "LP_SOURCE_TOPICS"),
        serialization_alias="source_topics", min_length=1)
    # A Confluent-compatible schema registry, for Avro values (edx-event-bus-kafka's format); empty:
    # none, and Avro values are dead-lettered. Optional basic auth, as EVENT_BUS_KAFKA_SCHEMA_REGISTRY_API_KEY
    # and _API_SECRET upstream.
    schema_registry_url: str = ""
    schema_registry_api_key: str = ""
    schema_registry_api_secret: str = ""
    topic_partitions: int = Field(default=4, ge=1, le=256)
    consumer_group: str = "learner-projector"

    jwt_secret: str = "dev-only-secret-for-local-use-change-me"
    jwt_issuer: str = "http://localhost:18000/oauth2"
    jwt_audience: str = "lms-key"
    # RS256 verification keys, optional: a JWK set (Open edX's JWT_PUBLIC_SIGNING_JWK_SET) or PEM
    # public keys separated by blank lines.
    jwt_public_keys: str = ""

    lms_base_url: str = "http://localhost:18000"
    account_mfe_url: str = "http://localhost:1997"
    ecommerce_url: str = "http://localhost:18130"
    credentials_url: str = "http://localhost:18150"
    cors_origins: Annotated[list[str], NoDecode] = ["http://localhost:2000"]
    linkedin_org_id: str | None = None
    streak_lengths: Annotated[list[int], NoDecode] = [3]

    freshness_wait_ms: int = Field(default=1000, ge=0, le=30000)
    longpoll_max_held: int = Field(default=1000, ge=0)
    max_body_bytes: int = Field(default=65536, ge=1)
    # The API answers its hot reads without FastAPI's machinery (api/fastpath.py); false: never.
    api_fast_path: bool = True
    # Finished bodies of the course, sequence and program-list reads kept per API process (api/answer_memo.py), by
    # read reply and request; 0: none kept.
    api_answer_memo: int = Field(default=4096, ge=0)
    # Tests only: a fixed "now" for every read-time rule of the API. Unset in production (real clock).
    fake_now: AwareDatetime | None = None

    batch_size: int = Field(default=1000, ge=1)
    # The longest a live batch waits for more messages after its first (projectors/faust_batches.py;
    # it is cut sooner, after 2 ms without a message, and at once when `batch_size` is reached).
    batch_within_ms: int = Field(default=20, ge=1)
    # The most bytes in one record batch of the projector's producer (change records, dead letters).
    # aiokafka queues a partition's next batch only once the one before it was sent, one request
    # per round trip: with its default of 16 KiB a live batch's change records took several round
    # trips per partition (bench/RESULTS.md, round 5). Below the broker's message.max.bytes (1 MiB).
    publish_batch_bytes: int = Field(default=512 * 1024, ge=1024, le=1_000_000)
    ready_max_lag: int = Field(default=10000, ge=0)
    # Prometheus metrics of the projector on this port (all interfaces); 0: not served.
    projector_metrics_port: int = Field(default=0, ge=0, le=65535)
    log_level: str = "INFO"

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, v: object) -> object:
        if isinstance(v, str):
            return [o.strip().rstrip("/") for o in v.split(",") if o.strip()]
        return v

    @field_validator("source_topic_names", mode="before")
    @classmethod
    def _split_topics(cls, v: object) -> object:
        if isinstance(v, str):
            return [t.strip() for t in v.split(",") if t.strip()]
        return v

    @field_validator("streak_lengths", mode="before")
    @classmethod
    def _split_ints(cls, v: object) -> object:
        if isinstance(v, str):
            return [int(x) for x in v.split(",") if x.strip()]
        return v

    @field_validator("kafka_bootstrap", "redis_url", "redis_namespace", "jwt_secret")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be empty")
        return v

    @field_validator("jwt_public_keys")
    @classmethod
    def _readable_keys(cls, v: str) -> str:
        public_keys(v)  # raises ValueError with the reason
        return v

    @field_validator("redis_namespace")
    @classmethod
    def _plain_namespace(cls, v: str) -> str:
        if not all(c.isalnum() or c in "-_." for c in v):
            raise ValueError("letters, digits, '-', '_' and '.' only")
        return v

    @cached_property
    def full_topic_prefix(self) -> str:
        """What goes before every topic name: LP_TOPIC_PREFIX, then LP_EVENT_BUS_TOPIC_PREFIX and `-`."""
        upstream = f"{self.event_bus_topic_prefix}-" if self.event_bus_topic_prefix else ""
        return f"{self.topic_prefix}{upstream}"

    def topic(self, name: str) -> str:
        return f"{self.full_topic_prefix}{name}"

    @cached_property
    def source_topics(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.topic(t) for t in self.source_topic_names))

    @cached_property
    def projected_topics(self) -> tuple[str, ...]:
        return tuple(self.topic(t) for t in PROJECTED_TOPICS)


def public_keys(text: str) -> tuple[tuple[str | None, Any], ...]:
    """(kid, key) pairs of `LP_JWT_PUBLIC_KEYS`: a JWK set as Open edX publishes it
    (`JWT_PUBLIC_SIGNING_JWK_SET`, `{"keys": [...]}`) or PEM public keys separated by blank lines.
    Raises ValueError for anything else (validated at start-up; api/auth.py uses the keys)."""
    return _public_keys(text.strip())


@lru_cache(maxsize=4)
def _public_keys(text: str) -> tuple[tuple[str | None, Any], ...]:
    if not text:
        return ()
    import jwt
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    try:
        if text.startswith("{"):
            jwks = jwt.PyJWKSet.from_json(text)
            return tuple((k.key_id, k.key) for k in jwks.keys if k.key_type == "RSA")
        blocks = [b.strip() for b in text.replace("\r", "").split("\n\n") if b.strip()]
        return tuple((None, load_pem_public_key(b.encode())) for b in blocks)
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise ValueError(f"not a JWK set or PEM public keys: {exc}") from None


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment; raise SettingsError naming the bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = str(first["loc"][0]) if first["loc"] else "*"
        field = Settings.model_fields.get(loc)
        loc = (field.serialization_alias if field is not None and field.serialization_alias else loc).upper()
        name = loc if loc.startswith("LP_") else "LP_" + loc
        raise SettingsError(f"{name}: {first['msg']} (got {first.get('input')!r})") from None
