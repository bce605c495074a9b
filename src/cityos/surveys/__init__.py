"""Citizen surveys (市民アンケート): built by staff, answered by residents, tallied live."""
