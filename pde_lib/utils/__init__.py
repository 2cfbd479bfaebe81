"""Small helpers shared by every stage: atomic writes, provenance, number formatting and
the process's heap settings (``memory``)."""
