"""What the layout tests measure in the page: horizontal overflow, boxes that cover each other,
and the contrast of every piece of visible text against what it is drawn on (WCAG 2.x)."""

from __future__ import annotations

from typing import Any

#: WCAG AA for normal text.
AA = 4.5

#: The relative luminance and contrast ratio of WCAG 2.x, computed on the rendered page: each
#: element with text of its own (and each ::before with content), its colour, with the opacity
#: of it and its ancestors, over the backgrounds of its ancestors composited from the root down.
CONTRAST_JS = """() => {
  const parse = (c) => {
    const m = /rgba?\\(([^)]+)\\)/.exec(c || "");
    if (!m) return null;
    const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const channel = (v) => { v /= 255; return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
  const luminance = (c) => 0.2126 * channel(c[0]) + 0.7152 * channel(c[1]) + 0.0722 * channel(c[2]);
  const over = (fg, bg) => [0, 1, 2].map((i) => fg[i] * fg[3] + bg[i] * (1 - fg[3]));
  const chain = (el) => {
    const out = [];
    for (let n = el; n && n.nodeType === 1; n = n.parentElement) out.push(n);
    return out;
  };
  const background = (el) => {
    let bg = [255, 255, 255];
    for (const n of chain(el).reverse()) {
      const c = parse(getComputedStyle(n).backgroundColor);
      if (c && c[3] > 0) bg = over(c, bg);
    }
    return bg;
  };
  const opacity = (el) => chain(el).reduce((o, n) => o * Number(getComputedStyle(n).opacity), 1);
  const name = (el) => (el instanceof SVGElement ? "svg:" : "") + el.tagName.toLowerCase() + (el.id ? `#${el.id}` : "")
    + (typeof el.className === "string" && el.className ? `.${el.className.trim().split(/\\s+/).join(".")}` : "");
  const ratio = (colour, el) => {
    const fg = parse(colour);
    fg[3] *= opacity(el);
    const bg = background(el);
    const [a, b] = [luminance(over(fg, bg)), luminance(bg)].sort((x, y) => y - x);
    return (a + 0.05) / (b + 0.05);
  };
  const out = [];
  for (const el of document.querySelectorAll("body *")) {
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (!box.width || !box.height || style.visibility === "hidden" || el.closest("[hidden]")) continue;
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (own) {
      const colour = el instanceof SVGElement ? style.fill : style.color;
      out.push({ element: name(el), text: el.textContent.trim().slice(0, 40), ratio: ratio(colour, el) });
    }
    const before = getComputedStyle(el, "::before");
    if (before.content && !["none", "normal", '""'].includes(before.content)) {
      out.push({ element: `${name(el)}::before`, text: before.content.slice(0, 40), ratio: ratio(before.color, el) });
    }
  }
  return out;
}"""


def contrast(page: Any) -> list[dict[str, Any]]:
    """Every visible text on the page with its contrast ratio."""
    return page.evaluate(CONTRAST_JS)  # type: ignore[no-any-return]


def assert_contrast(page: Any, must_include: list[str]) -> list[dict[str, Any]]:
    """All visible text at AA or better; `must_include`: element names the check has to have seen."""
    measured = contrast(page)
    weak = [m for m in measured if m["ratio"] < AA]
    assert not weak, f"text below {AA}:1: {weak}"
    seen = " ".join(m["element"] for m in measured)
    missing = [name for name in must_include if name not in seen]
    assert not missing, f"the contrast check did not reach {missing}: {sorted({m['element'] for m in measured})}"
    return measured


def overflow_px(page: Any) -> int:
    """How far the page is wider than the window (0: no horizontal scrolling)."""
    return page.evaluate(  # type: ignore[no-any-return]
        "() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
        " - document.documentElement.clientWidth"
    )


def overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    """Whether two bounding boxes cover each other."""
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )
