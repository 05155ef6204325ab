"""Foundation (L0): errors, ids, references, settings, workspace, KPIs and operation definitions.

Nothing here imports another Keel layer; everything above builds on it.
"""
