"""The read stage: a reader scores whether each retrieved passage answers the question, and where."""
