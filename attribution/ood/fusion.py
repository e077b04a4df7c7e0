"""Rank fusion of detectors, calibrated on in-distribution data only."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
from torch import Tensor

from ._base import OODDetector

__all__ = ["RankFusion"]


class RankFusion(OODDetector):
    r"""Combine detectors through their in-distribution score distributions.

    ``fit(x_id)`` fits the components that need it and stores each component's scores on
    ``x_id``.  ``score(x)`` maps every component score :math:`s_i` to its mid-rank
    empirical CDF under the ID scores, :math:`F_i(s_i) \in [0, 1]` (the fraction of ID
    scores below it, ties counted one half), optionally two-sided, and combines them:

    * ``combine="max"`` (default): :math:`\max_i u_i`, flag a sample when *any*
      component finds it abnormal (Tippett's minimum-p rule);
    * ``combine="mean"``: :math:`\mathrm{mean}_i u_i`, a rank average.

    With ``two_sided`` the component's statistic is :math:`u_i = |2F_i - 1|`: a sample is
    abnormal when it falls in either tail of the ID distribution.  This is meant for
    GAIA, whose zero-deflation statistic flips sign on some OOD sets (see
    ``docs/bench/ood.md``); logit scores should stay one-sided (``u_i = F_i``).  No OOD
    data is used anywhere.

    Parameters
    ----------
    detectors : sequence of OODDetector
        The components (all scored on the same inputs).
    two_sided : bool or sequence of bool, default False
        Per component (or for all).
    combine : {"max", "mean"}, default "max"

    Attributes
    ----------
    reference_ : list of Tensor
        Sorted ID scores of every component.

    Examples
    --------
    >>> import torch
    >>> from attribution.ood import Energy, MaxLogit, RankFusion
    >>> model = torch.nn.Identity()
    >>> x_id = torch.tensor([[3.0, 0.0], [4.0, 0.0], [5.0, 0.0], [0.0, 6.0]])
    >>> fusion = RankFusion([Energy(model), MaxLogit(model)]).fit(x_id)
    >>> fusion.score(torch.tensor([[0.0, 0.0], [9.0, 0.0]]))
    tensor([1., 0.])
    """

    requires_fit = True

    def __init__(
        self,
        detectors: Sequence[OODDetector],
        two_sided: bool | Sequence[bool] = False,
        combine: Literal["max", "mean"] = "max",
    ) -> None:
        detectors = list(detectors) if isinstance(detectors, Sequence) else []
        if not detectors or not all(isinstance(d, OODDetector) for d in detectors):
            raise ValueError("detectors must be a non-empty sequence of OODDetector objects")
        super().__init__(detectors[0].model, detectors[0].batch_size)
        flags = [two_sided] * len(detectors) if isinstance(two_sided, bool) else list(two_sided)
        if len(flags) != len(detectors) or not all(isinstance(f, bool) for f in flags):
            raise ValueError("two_sided must be a bool or one bool per detector")
        if combine not in ("max", "mean"):
            raise ValueError(f"combine must be 'max' or 'mean', got {combine!r}")
        self.detectors = detectors
        self.two_sided = two_sided
        self.combine = combine
        self._flags = flags

    def fit(self, x: Tensor, y: object = None) -> RankFusion:
        """Fit the components that need it and store their scores on ID data ``x``.

        Examples
        --------
        >>> import torch
        >>> from attribution.ood import MaxLogit, RankFusion
        >>> fusion = RankFusion([MaxLogit(torch.nn.Identity())])
        >>> fusion.fit(torch.tensor([[3.0, 0.0], [1.0, 0.0], [2.0, 0.0]])) is fusion
        True
        >>> fusion.reference_[0].tolist()  # sorted ID scores (MaxLogit: minus the largest logit)
        [-3.0, -2.0, -1.0]
        """
        x = self._check_x(x)
        self.reference_ = []
        for detector in self.detectors:
            if detector.requires_fit:
                detector.fit(x)
            self.reference_.append(torch.sort(detector.score(x).cpu().double()).values)
        self.fitted_ = True
        return self

    def _cdf(self, i: int, s: Tensor) -> Tensor:
        ref = self.reference_[i]
        s = s.cpu().double()
        below = torch.searchsorted(ref, s, right=False)
        upto = torch.searchsorted(ref, s, right=True)
        f = (below + upto).double() / (2 * ref.numel())
        return (2 * f - 1).abs() if self._flags[i] else f

    def component_scores(self, x: Tensor) -> Tensor:
        """The calibrated statistic :math:`u_i` of every component, shape ``(N, k)``.

        Examples
        --------
        >>> import torch
        >>> from attribution.ood import MaxLogit, RankFusion
        >>> x_id = torch.tensor([[3.0, 0.0], [1.0, 0.0], [2.0, 0.0]])
        >>> fusion = RankFusion([MaxLogit(torch.nn.Identity())]).fit(x_id)
        >>> fusion.component_scores(torch.tensor([[2.0, 0.0], [0.5, 0.0]])).tolist()  # mid-rank CDF
        [[0.5], [1.0]]
        >>> two = RankFusion([MaxLogit(torch.nn.Identity())], two_sided=True).fit(x_id)
        >>> two.component_scores(torch.tensor([[2.0, 0.0], [9.0, 0.0]])).tolist()  # either tail
        [[0.0], [1.0]]
        """
        if not self.fitted_:
            raise ValueError("this RankFusion is not fitted: call fit(x_id) first")
        x = self._check_x(x)
        return torch.stack([self._cdf(i, d.score(x)) for i, d in enumerate(self.detectors)], 1)

    def score(self, x: Tensor) -> Tensor:
        """Fused outlier score in [0, 1] (higher = more OOD), on the device of ``x``.

        Examples
        --------
        >>> import torch
        >>> from attribution.ood import Energy, MaxLogit, RankFusion
        >>> model = torch.nn.Identity()
        >>> x_id = torch.tensor([[3.0, 0.0], [4.0, 0.0], [5.0, 0.0], [0.0, 6.0]])
        >>> fusion = RankFusion([Energy(model), MaxLogit(model)], combine="mean").fit(x_id)
        >>> x = torch.tensor([[0.0, 0.0], [9.0, 0.0]])
        >>> torch.equal(fusion.score(x), fusion.component_scores(x).mean(dim=1).float())
        True
        """
        u = self.component_scores(x)
        fused = u.max(dim=1).values if self.combine == "max" else u.mean(dim=1)
        return fused.to(device=x.device, dtype=torch.float32)

    __call__ = score

    def __repr__(self) -> str:
        names = ", ".join(d.get_name() for d in self.detectors)
        return f"RankFusion([{names}], combine={self.combine!r})"
