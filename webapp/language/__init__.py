"""Reading written answers: sentences as a reader sees them, words as comparable keys, and
claims (who does what) found with their polarity. Plain Python, no web or database code."""
