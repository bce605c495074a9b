"""Disaster core: shelters, evacuation guidance, disaster mode, alerts (CAP), static snapshots."""
