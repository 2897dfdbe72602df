"""The benchmark suite (`lp bench`): real Kafka and Redis, figures side by side with their floors."""
