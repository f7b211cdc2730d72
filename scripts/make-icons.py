#!/usr/bin/env python3
"""Draws Idlewatt's app icon and one tray icon per node state into icons/ (Pillow).

The committed PNGs are what the build uses; run this again only to change the design:
    python3 -m venv /tmp/v && /tmp/v/bin/pip install pillow && /tmp/v/bin/python scripts/make-icons.py
Design: a rounded square in the state's colour with a white bolt (the app icon is the
"computing" green); supersampled 4x for smooth edges.
"""
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent / "icons"
SS = 4  # supersampling

# state -> (background, glyph)
STATES = {
    "setup": ("#6b7280", "dots"),
    "starting": ("#6b7280", "dots"),
    "waiting": ("#2563eb", "moon"),
    "computing": ("#16a34a", "bolt"),
    "yielding": ("#0d9488", "bolt"),
    "paused": ("#64748b", "pause"),
    "throttled": ("#d97706", "bolt"),
    "offline": ("#6b7280", "cross"),
    "error": ("#dc2626", "bang"),
}


def draw(size: int, colour: str, glyph: str) -> Image.Image:
    s = size * SS
    img = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    pad = s * 0.06
    d.rounded_rectangle([pad, pad, s - pad, s - pad], radius=s * 0.22, fill=colour)
    w = "#ffffff"
    u = s / 100.0
    if glyph == "bolt":
        pts = [(56, 14), (26, 56), (47, 56), (40, 86), (74, 40), (52, 40), (60, 14)]
        d.polygon([(x * u, y * u) for x, y in pts], fill=w)
    elif glyph == "pause":
        d.rounded_rectangle([30 * u, 26 * u, 44 * u, 74 * u], radius=3 * u, fill=w)
        d.rounded_rectangle([56 * u, 26 * u, 70 * u, 74 * u], radius=3 * u, fill=w)
    elif glyph == "moon":
        d.ellipse([24 * u, 22 * u, 76 * u, 78 * u], fill=w)
        d.ellipse([38 * u, 14 * u, 88 * u, 66 * u], fill=colour)
    elif glyph == "dots":
        for x in (30, 50, 70):
            d.ellipse([(x - 7) * u, 43 * u, (x + 7) * u, 57 * u], fill=w)
    elif glyph == "cross":
        d.line([30 * u, 30 * u, 70 * u, 70 * u], fill=w, width=int(12 * u))
        d.line([70 * u, 30 * u, 30 * u, 70 * u], fill=w, width=int(12 * u))
    elif glyph == "bang":
        d.rounded_rectangle([43 * u, 20 * u, 57 * u, 62 * u], radius=5 * u, fill=w)
        d.ellipse([42 * u, 68 * u, 58 * u, 84 * u], fill=w)
    return img.resize((size, size), Image.LANCZOS)


def main() -> None:
    ROOT.mkdir(exist_ok=True)
    (ROOT / "tray").mkdir(exist_ok=True)
    green, bolt = STATES["computing"]
    for name, size in [("32x32.png", 32), ("64x64.png", 64), ("128x128.png", 128), ("128x128@2x.png", 256), ("icon.png", 512)]:
        draw(size, green, bolt).save(ROOT / name)
    draw(256, green, bolt).save(ROOT / "icon.ico", sizes=[(16, 16), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)])
    draw(512, green, bolt).save(ROOT / "icon.icns")
    for state, (colour, glyph) in STATES.items():
        draw(64, colour, glyph).save(ROOT / "tray" / f"{state}.png")


if __name__ == "__main__":
    main()
