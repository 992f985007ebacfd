"""Measuring the text grader against answers labelled by people: the evaluation set, its
figures (rank correlation, weighted kappa, per-point agreement, false credit) and the report."""
