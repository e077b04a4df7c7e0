"""Run in a subprocess by test_baselines.py: our baselines against pytorch-ood's.

pytorch-ood imports torchvision at package import time (model registry only), and
torchvision does not work with the CPU torch build used here.  This script installs a
stub for ``torchvision.*`` (empty classes for capitalised names) in its own process only,
then prints the largest absolute difference of every detector pair as JSON.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import json
import sys
import types


class _Fake(types.ModuleType):
    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        if name[:1].isupper():
            return type(name, (), {"__init__": lambda self, *a, **k: None})
        module = _Fake(f"{self.__name__}.{name}")
        module.__path__ = []
        sys.modules[module.__name__] = module
        return module


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path, target=None):
        if name == "torchvision" or name.startswith("torchvision."):
            return importlib.machinery.ModuleSpec(name, self, is_package=True)
        return None

    def create_module(self, spec):
        module = _Fake(spec.name)
        module.__path__ = []
        return module

    def exec_module(self, module):
        pass


def main() -> None:
    sys.meta_path.insert(0, _Finder())
    import torch
    from pytorch_ood import detector as ref

    from attribution.ood import MSP, ODIN, Energy, MaxLogit, ReAct

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.ReLU(),
                              torch.nn.Linear(7, 4)).eval()
    x = torch.randn(50, 5)
    react = ReAct(net, percentile=90).fit(x)
    pairs = {
        "MSP": (MSP(net), ref.MaxSoftmax(net)),
        "Energy": (Energy(net, temperature=2.0), ref.EnergyBased(net, t=2.0)),
        "MaxLogit": (MaxLogit(net), ref.MaxLogit(net)),
        "ODIN": (ODIN(net, temperature=1000.0, epsilon=0.01),
                 ref.ODIN(net, temperature=1000.0, eps=0.01)),
        "ReAct": (react, ref.ReAct(backbone=net[:2], head=net[2], threshold=react.threshold_)),
    }
    out = {}
    for name, (ours, theirs) in pairs.items():
        out[name] = float((ours.score(x) - theirs.predict(x).detach()).abs().max())
    print(json.dumps(out))


if __name__ == "__main__":
    main()
