"""Figures of the workflow (matplotlib, Agg backend)."""
