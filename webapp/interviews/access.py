"""Who may do what in an interview: the one rule every page, fragment and the WebSocket ask."""

from __future__ import annotations

from webapp.identity.models import Role, User
from webapp.interviews.models import Interview


def can_join(user: User, interview: Interview) -> bool:
    """The interviewer, the invited candidate, and admins."""
    return user.id in (interview.interviewer_id, interview.candidate_id) or user.role == Role.admin


def runs_the_room(user: User, interview: Interview) -> bool:
    """The interviewer's side (also admins): notes, hidden tests, switching questions, ending.
    The candidate of an interview is never on it, even if they are staff themselves."""
    if user.id == interview.candidate_id:
        return False
    return user.id == interview.interviewer_id or user.role == Role.admin
