"""`trackwatch simulate`: the real daemon against the sandbox in simulated time, scored
against a scenario's ground truth."""
