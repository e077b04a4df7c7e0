"""Our Integrated Gradients on an ECSEL model's ``to_torch()`` against its closed form."""

import numpy as np
import pandas as pd
import torch

from attribution import IntegratedGradients
from ecsel import ECSELRegressor, Signomial
from ecsel._transform import FeatureMap, PositivityTransform


def _signed_signomial():
    """Two terms of exp-map features: z = b + sum_k c_k exp(sum_j g_kj x~_j).

    The ``linear`` map (log u affine in x) keeps straight-line IG in closed form;
    the default ``signed`` map is asinh, whose IG has no such form.
    """
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(0, 1.5, (200, 4)), columns=list("abcd"))
    maps = [
        FeatureMap(c, c, "linear", scale=float(frame[c].std()), center=float(frame[c].median()))
        for c in frame.columns
    ]
    transform = PositivityTransform(maps, list(frame.columns))
    exponents = np.array([[[0.7, -0.4, 0.0, 0.2], [-0.3, 0.0, 0.5, 0.0]]])
    return Signomial([0.3], [[1.2, -0.8]], exponents, transform, ["y"]), frame


def _exact_ig(signomial, x, base):
    """Straight-line IG in closed form: each term is exp of a linear function of x."""
    maps = signomial.transform.feature_maps
    scale = np.array([m.scale for m in maps])
    center = np.array([m.center for m in maps])
    total = np.zeros_like(x)
    for k in range(signomial.coef.shape[1]):
        slope = signomial.exponents[0, k] / scale
        step = (x - base) * slope
        term_at = [signomial.coef[0, k] * np.exp((v - center) @ slope) for v in (x, base)]
        delta_term = term_at[0] - term_at[1]
        total += step / step.sum(axis=1, keepdims=True) * delta_term[:, None]
    return total


def test_ig_matches_the_closed_form_on_an_ecsel_module():
    signomial, frame = _signed_signomial()
    est = ECSELRegressor.from_signomial(signomial)
    module = est.to_torch()
    x = frame.head(16).to_numpy()
    base = np.tile(frame.median().to_numpy(), (16, 1))
    ig = IntegratedGradients(module).attribute(
        torch.tensor(x), baselines=torch.tensor(base), target=0, n_steps=64
    )
    np.testing.assert_allclose(ig.numpy(), _exact_ig(signomial, x, base), rtol=1e-9, atol=1e-12)
    # Completeness then holds to quadrature precision as well.
    delta = signomial.evaluate(pd.DataFrame(x, columns=list("abcd")))[:, 0] - \
        signomial.evaluate(pd.DataFrame(base, columns=list("abcd")))[:, 0]
    np.testing.assert_allclose(ig.numpy().sum(1), delta, rtol=1e-9)
