"""The city's procedure catalog and the life-event guidance (手続きナビ)."""
