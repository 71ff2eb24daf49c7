"""Development tools: the demo data set and the benchmarks (installed when CRM_DEVTOOLS is on).

The top floor: it may import every app, and no product app imports it.
"""
