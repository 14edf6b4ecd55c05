"""`trackwatch chaos`: the daemon under SIGKILL, carrier faults and fuzzed input, checked
against the issue's targets (kills.py, faults.py, fuzz.py; report.py prints the figures).

Like trackwatch/sandbox and trackwatch/sim, this is a harness: production code never
imports it.
"""
