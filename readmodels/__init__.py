"""The Redis side: key layout, the atomic writer, the readers and the response models."""
