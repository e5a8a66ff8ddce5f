"""The assignment: its rules, running the methods, the comparison table,
the submission folder, the checker and the command line."""
