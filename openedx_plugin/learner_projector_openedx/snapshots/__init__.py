"""Complete snapshots built from upstream data: a published course, a catalog program."""
