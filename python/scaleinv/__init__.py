"""scaleinv: the positive-scaling symmetry of ReLU networks.

Bindings of the C++ library (the compiled ``scaleinv._scaleinv`` extension): ``Network`` and the
analyses ``analyze``, ``basis``, ``express``, ``verify``, ``equivalent``, ``rescale``, ``balance``,
``canonical``, ``imbalance`` and ``fdim``, whose dicts have the keys of the CLI's ``--json`` output
(docs/formats.md). Library errors raise ``scaleinv.Error``, a ``ValueError``. ``scaleinv.torch``
(imported on its own, it needs PyTorch) brings PyTorch models to them. See docs/python.md.
"""
from ._scaleinv import (  # noqa: F401
    Error,
    Network,
    __version__,
    analyze,
    balance,
    basis,
    canonical,
    equivalent,
    example_names,
    express,
    fdim,
    imbalance,
    loss_and_gradient,
    rescale,
    verify,
)

__all__ = [
    "Error", "Network", "analyze", "balance", "basis", "canonical", "equivalent", "example_names",
    "express", "fdim", "imbalance", "loss_and_gradient", "rescale", "verify",
]
