"""Wannier interpolation of a model's operators at k-points, and the band geometry built from them."""
