"""Explainable Classification via Signomial Equation Learning."""

__version__ = "0.1.0"

__all__: list[str] = ["__version__"]
