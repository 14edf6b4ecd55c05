"""The carriers' report card (issue 20, item 2): per carrier and per lane (the store's origin
country to the destination country), over the parcels shipped in a period, how often each
carrier delivered by its own first ETA and by the store's promise, how long transit took,
how often parcels stalled, met an exception or were lost, and how fast trackwatch told the
customer. `figures` counts, `charts` draws (pygal, imported when drawing), `export` writes
CSV, `command` is `trackwatch report`, `page` the console's /console/report.
"""
