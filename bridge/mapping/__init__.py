"""Conductance -> network-parameter mappings fitted from the HH spike statistics."""
