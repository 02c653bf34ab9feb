#!/usr/bin/env python3
"""Runs assume_role_grouping.sql with DuckDB over an archive folder (a competitor in compare.py)."""
import os
import sys

import duckdb

root = sys.argv[1]
pattern = os.path.join(root, "AWSLogs", "*", "*", "CloudTrail", "*", "*", "*", "*", "*.json.gz")
sql = open(os.path.join(os.path.dirname(__file__), "assume_role_grouping.sql")).read().replace("{glob}", pattern)
for row in duckdb.sql(sql).fetchall():
    print(*row)
