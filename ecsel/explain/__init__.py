"""Explanations computed from the closed form of a fitted signomial."""
