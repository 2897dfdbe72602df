"""learner-projector's Open edX plugin: publishes the `ext.` events a stock LMS does not, and backfills."""

__version__ = "0.1.0"
