"""Mobility: pedestrian routing (and later GTFS-JP journeys)."""
