"""Counter reservations (窓口予約): counters, bookings, the day's queue and waiting times."""
