"""The application layer: the use cases, the only way in for the faces (CLI, HTTP, projections)."""
