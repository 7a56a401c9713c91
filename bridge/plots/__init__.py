"""Figures (matplotlib, Agg backend): one module per figure family."""
