"""Grading: graders and the machinery that runs them. Nothing here imports the web framework."""
