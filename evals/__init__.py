"""Problem suites, metrics (pass@k, build@k, speedup_n@k, efficiency_n@k) and batch runs."""
