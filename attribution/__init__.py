"""Neural attribution methods and faithfulness metrics with a Captum-style API."""

__all__: list[str] = []
