"""Data sets shipped with ecsel, with their provenance.

Nothing is downloaded: every file ships in the ``datasets/`` folder of the source tree,
installed as ``ecsel/_data`` in the wheel (see ``datasets/README.md`` for sources,
licenses and checksums).

* :func:`load_feynman`, :func:`list_feynman`: the 100 laws of the AI Feynman benchmark,
  sampled on their published ranges, with the true SymPy expression and (``feynman_units``,
  ``return_units=True``) the units of every variable.
* :func:`signomial_terms`, :func:`is_signomial`: decompose an expression into
  ``(coefficient, exponents)`` terms.
* :func:`load_online_shoppers`: UCI Online Shoppers Purchasing Intention (12,330 x 17).
* :func:`load_credit_card_fraud`: the ULB credit-card fraud data; the full file when
  available, else the bundled stratified sample.
"""

from ._feynman import feynman_units, is_signomial, list_feynman, load_feynman, signomial_terms
from ._fraud import load_credit_card_fraud
from ._paths import DataFileNotFoundError, data_path
from ._shoppers import load_online_shoppers

__all__ = [
    "DataFileNotFoundError",
    "data_path",
    "feynman_units",
    "is_signomial",
    "list_feynman",
    "load_credit_card_fraud",
    "load_feynman",
    "load_online_shoppers",
    "signomial_terms",
]
