"""A cost estimate per summary from the tokens the API reported. Pure: no Django.

USD per 1 million tokens (input, output), list prices of the providers' public pricing pages as of
2025; a dated variant ("gpt-4o-mini-2024-07-18", "claude-haiku-4-5-20251001") takes its family's
price. An unknown model (a local Ollama or vLLM model, a new release) has no estimate: None, not 0.
"""

from __future__ import annotations

PRICES_PER_MILLION: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-5-nano": (0.05, 0.40),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5": (1.25, 10.00),
    "claude-3-5-haiku": (0.80, 4.00),
    "claude-haiku-4-5": (1.00, 5.00),
    "claude-3-7-sonnet": (3.00, 15.00),
    "claude-sonnet-4": (3.00, 15.00),
    "claude-sonnet-4-5": (3.00, 15.00),
    "claude-opus-4-1": (15.00, 75.00),
}


def price_of(model: str) -> tuple[float, float] | None:
    """(input, output) USD per 1M tokens of `model` or of the longest known name it starts with."""
    name = model.strip().lower()
    if name in PRICES_PER_MILLION:
        return PRICES_PER_MILLION[name]
    family = max((known for known in PRICES_PER_MILLION if name.startswith(known + "-")), key=len, default="")
    return PRICES_PER_MILLION.get(family)


def cost_usd(model: str, tokens_in: int | None, tokens_out: int | None) -> float | None:
    """Estimated USD of one summary; None when the model's price or the token counts are unknown."""
    price = price_of(model)
    if price is None or tokens_in is None or tokens_out is None:
        return None
    return round((tokens_in * price[0] + tokens_out * price[1]) / 1_000_000, 8)
