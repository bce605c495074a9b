"""River and ground sensors: NGSI-LD entities and time series, thresholds, offline detection."""
