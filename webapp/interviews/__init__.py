"""Live interviews: an interviewer and a candidate in one shared editor (docs/interviews.md)."""
