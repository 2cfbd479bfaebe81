"""Small helpers shared by every stage: atomic writes and provenance."""
