"""Citizen reports of local problems: Open311 GeoReport v2, the catalog, statuses."""
