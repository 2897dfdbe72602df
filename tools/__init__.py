"""Developer and operator tooling: local Kafka/Redis, the command line, the synthetic history."""
