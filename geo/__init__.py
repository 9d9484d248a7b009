"""Geometry and coordinate systems: datums, boundary loading, placement, validation."""
