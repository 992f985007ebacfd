"""How recently a grader must have sent a heartbeat to count as alive."""

from datetime import timedelta

RECENT = timedelta(minutes=2)
