"""WCAG 2.x contrast ratio of two CSS colours; what the browser says about the focused element."""

from __future__ import annotations

import re
from typing import Any

_NUMBERS = re.compile(r"[\d.]+")


def parse(colour: str) -> tuple[float, float, float, float]:
    """``#rgb``, ``#rrggbb``, ``rgb(…)`` or ``rgba(…)`` as (r, g, b, alpha), channels 0–255."""
    colour = colour.strip().lower()
    if colour.startswith("#"):
        digits = colour[1:]
        if len(digits) == 3:
            digits = "".join(d * 2 for d in digits)
        r, g, b = (int(digits[i : i + 2], 16) for i in (0, 2, 4))
        return float(r), float(g), float(b), 1.0
    if colour == "white":
        return 255.0, 255.0, 255.0, 1.0
    values = [float(v) for v in _NUMBERS.findall(colour)]
    if len(values) < 3:
        raise ValueError(f"not a colour: {colour!r}")
    return values[0], values[1], values[2], values[3] if len(values) > 3 else 1.0


def _luminance(colour: str) -> float:
    def channel(value: float) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b, _ = parse(colour)
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def ratio(first: str, second: str) -> float:
    """Contrast ratio (1 to 21) as WCAG 2.x defines it."""
    light, dark = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


# The focused element (inside the tool's frame when that frame holds focus), its focus
# indicator (outline, or the first colour of a box-shadow) and the opaque background behind it.
FOCUSED = """() => {
  let doc = document;
  while (doc.activeElement && doc.activeElement.tagName === 'IFRAME' &&
         doc.activeElement.contentDocument) doc = doc.activeElement.contentDocument;
  const el = doc.activeElement;
  if (!el || el === doc.body || el === doc.documentElement) return null;
  const style = getComputedStyle(el);
  let bg = 'rgb(255, 255, 255)';
  for (let up = el.parentElement; up; up = up.parentElement) {
    const c = getComputedStyle(up).backgroundColor;
    if (c && c !== 'transparent' && !/rgba\\(.*,\\s*0\\)$/.test(c)) { bg = c; break; }
  }
  const name = (el.getAttribute('aria-label') || el.innerText || el.value || '').trim();
  return {tag: el.tagName.toLowerCase(), name: name.slice(0, 80), id: el.id,
          href: el.getAttribute('href') || '', type: el.getAttribute('type') || '',
          outlineStyle: style.outlineStyle, outlineWidth: parseFloat(style.outlineWidth) || 0,
          outlineColor: style.outlineColor, boxShadow: style.boxShadow, background: bg,
          inFrame: doc !== document};
}"""


def focus_ring(focused: dict[str, Any]) -> tuple[str, float] | None:
    """(indicator colour, contrast against the background) of a focused element, or None."""
    if focused["outlineStyle"] != "none" and focused["outlineWidth"] >= 1:
        colour = focused["outlineColor"]
    elif focused["boxShadow"] and focused["boxShadow"] != "none":
        found = re.search(r"rgba?\([^)]*\)|#[0-9a-f]{3,6}", focused["boxShadow"])
        if not found:
            return None
        colour = found.group(0)
    else:
        return None
    return colour, ratio(colour, focused["background"])
