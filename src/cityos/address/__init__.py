"""Japanese address normalization and geocoding for all of Japan (住所・位置データの標準化)."""
