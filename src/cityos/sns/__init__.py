"""SNS posts in a disaster: triage, storage, the staff queue, area summaries, questions."""
