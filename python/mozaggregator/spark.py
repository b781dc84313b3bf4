"""Distributed aggregation with PySpark (being written)."""
