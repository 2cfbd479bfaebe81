"""Small helpers shared by every stage: atomic writes, provenance and number formatting."""
