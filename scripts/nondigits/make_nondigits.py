#!/usr/bin/env python3
"""Builds the non-digit set that `mnist-adder unsure-report` measures the `unsure` flag on.

Writes PNG pictures, one folder per kind, into OUT (default .build/nondigits):

  letters   A-Z and a-z drawn from the DejaVu fonts (Sans, Serif, Mono; book, bold, oblique)
  symbols   punctuation, arithmetic and other signs from the same fonts (+ - = ? ! # % & @ * ...)
  scribbles 1-4 smooth random strokes, as a mouse or a finger would draw them
  noise     uniform, salt-and-pepper and blurred random noise over the whole picture
  patterns  stripes, checkerboards, grids, concentric rings, dots, zigzags
  shapes    circles, squares, triangles, stars, crosses, outlined or filled

Every picture is 280x280 like the page's canvas, half white ink on black (as the page draws),
half black ink on white (as on paper); `mnist-adder` prepares each one exactly as `predict`
prepares a drawing (inverted if needed, cropped, scaled into 20x20, centred by mass in 28x28).
The set is a pure function of --seed (Python's random, Pillow's drawing): the same seed and the
same Pillow and fonts give the same pictures.

Usage: make_nondigits.py [--out DIR] [--seed N] [--per-kind N]
"""
import argparse
import glob
import math
import os
import random

from PIL import Image, ImageDraw, ImageFilter, ImageFont

SIDE = 280
FONT_DIRS = ["/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu", "/Library/Fonts", "/System/Library/Fonts"]
FONT_NAMES = [
    "DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSerif.ttf",
    "DejaVuSerif-Bold.ttf", "DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf", "DejaVuSansCondensed.ttf",
]
LETTERS = [chr(c) for c in range(ord("A"), ord("Z") + 1)] + [chr(c) for c in range(ord("a"), ord("z") + 1)]
SYMBOLS = list("+-=?!#$%&@*<>()[]{}~^\u00d7\u00f7\u2260\u00a7\u00b6\u20ac\u00a3\u00a5\u00a9\u00ae\u00b5\u221e\u221a\u2211\u03c0\u2190\u2192\u2191\u2193\u2605\u2665\u2666\u2663\u2660\u263a\u2713\u2717\u03a9\u03bb\u00bf")


def fonts():
    """The DejaVu font files found, or Pillow's built-in scalable font when there are none."""
    found = []
    for name in FONT_NAMES:
        for folder in FONT_DIRS:
            path = os.path.join(folder, name)
            if os.path.exists(path):
                found.append(path)
                break
    return found


def canvas(rng):
    """A blank picture and its ink colour: white on black or black on white, half each."""
    dark = rng.random() < 0.5
    image = Image.new("L", (SIDE, SIDE), 0 if dark else 255)
    return image, ImageDraw.Draw(image), (255 if dark else 0)


def glyph(rng, text, font_path):
    image, draw, ink = canvas(rng)
    size = rng.randint(110, 200)
    font = ImageFont.truetype(font_path, size) if font_path else ImageFont.load_default(size)
    layer = Image.new("L", (SIDE, SIDE), 0)
    ImageDraw.Draw(layer).text((SIDE / 2, SIDE / 2), text, fill=255, font=font, anchor="mm")
    layer = layer.rotate(rng.uniform(-15, 15), resample=Image.BILINEAR, center=(SIDE / 2, SIDE / 2))
    shift = (rng.randint(-30, 30), rng.randint(-30, 30))
    layer = layer.transform(layer.size, Image.AFFINE, (1, 0, -shift[0], 0, 1, -shift[1]), resample=Image.BILINEAR)
    image.paste(ink, mask=layer)
    return image


def smooth_path(rng, points, steps=12):
    """Catmull-Rom through random points: a stroke without corners."""
    out = []
    pts = [points[0]] + points + [points[-1]]
    for i in range(1, len(pts) - 2):
        p0, p1, p2, p3 = pts[i - 1], pts[i], pts[i + 1], pts[i + 2]
        for s in range(steps):
            t = s / steps
            t2, t3 = t * t, t * t * t
            out.append(tuple(0.5 * ((2 * p1[k]) + (-p0[k] + p2[k]) * t + (2 * p0[k] - 5 * p1[k] + 4 * p2[k] - p3[k]) * t2
                                    + (-p0[k] + 3 * p1[k] - 3 * p2[k] + p3[k]) * t3) for k in range(2)))
    out.append(points[-1])
    return out


def scribble(rng):
    image, draw, ink = canvas(rng)
    width = rng.randint(10, 24)
    for _ in range(rng.randint(1, 4)):
        n = rng.randint(3, 9)
        points = [(rng.uniform(40, SIDE - 40), rng.uniform(40, SIDE - 40)) for _ in range(n)]
        path = smooth_path(rng, points)
        draw.line(path, fill=ink, width=width, joint="curve")
        for x, y in (path[0], path[-1]):
            draw.ellipse((x - width / 2, y - width / 2, x + width / 2, y + width / 2), fill=ink)
    return image


def noise(rng):
    image, _, ink = canvas(rng)
    kind = rng.choice(["uniform", "salt", "blobs"])
    pixels = image.load()
    background = 255 - ink
    if kind == "uniform":
        for y in range(SIDE):
            for x in range(SIDE):
                pixels[x, y] = rng.randint(0, 255)
    elif kind == "salt":
        density = rng.uniform(0.02, 0.5)
        for y in range(SIDE):
            for x in range(SIDE):
                pixels[x, y] = ink if rng.random() < density else background
    else:
        cell = rng.randint(4, 20)
        small = Image.new("L", (SIDE // cell + 1, SIDE // cell + 1))
        sp = small.load()
        for y in range(small.size[1]):
            for x in range(small.size[0]):
                sp[x, y] = rng.randint(0, 255)
        image = small.resize((SIDE, SIDE), Image.BICUBIC).filter(ImageFilter.GaussianBlur(cell / 3))
    return image


def pattern(rng):
    image, draw, ink = canvas(rng)
    kind = rng.choice(["stripes", "checker", "grid", "rings", "dots", "zigzag"])
    period = rng.randint(14, 60)
    width = max(3, int(period * rng.uniform(0.25, 0.6)))
    if kind == "stripes":
        angle = rng.choice([0, 45, 90, 135]) + rng.uniform(-10, 10)
        layer = Image.new("L", (2 * SIDE, 2 * SIDE), 0)
        d = ImageDraw.Draw(layer)
        for x in range(0, 2 * SIDE, period):
            d.rectangle((x, 0, x + width, 2 * SIDE), fill=255)
        layer = layer.rotate(angle, resample=Image.BILINEAR).crop((SIDE // 2, SIDE // 2, SIDE // 2 + SIDE, SIDE // 2 + SIDE))
        image.paste(ink, mask=layer)
    elif kind == "checker":
        for y in range(0, SIDE, period):
            for x in range(0, SIDE, period):
                if (x // period + y // period) % 2 == 0:
                    draw.rectangle((x, y, x + period - 1, y + period - 1), fill=ink)
    elif kind == "grid":
        for v in range(rng.randint(0, period), SIDE, period):
            draw.line((v, 0, v, SIDE), fill=ink, width=width // 2 + 1)
            draw.line((0, v, SIDE, v), fill=ink, width=width // 2 + 1)
    elif kind == "rings":
        cx, cy = rng.uniform(80, 200), rng.uniform(80, 200)
        for r in range(period, 2 * SIDE, period):
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=ink, width=width // 2 + 1)
    elif kind == "dots":
        r = max(2, width // 2)
        for y in range(period // 2, SIDE, period):
            for x in range(period // 2, SIDE, period):
                draw.ellipse((x - r, y - r, x + r, y + r), fill=ink)
    else:
        for y0 in range(period // 2, SIDE, period):
            pts = [(x, y0 + (period // 3 if (x // period) % 2 else -period // 3)) for x in range(0, SIDE + period, period)]
            draw.line(pts, fill=ink, width=width // 2 + 1)
    return image


def shape(rng):
    image, draw, ink = canvas(rng)
    kind = rng.choice(["circle", "square", "triangle", "star", "cross", "ellipse"])
    cx, cy = rng.uniform(100, 180), rng.uniform(100, 180)
    r = rng.uniform(50, 110)
    filled = rng.random() < 0.5
    width = rng.randint(8, 22)
    rot = rng.uniform(0, 2 * math.pi)

    def polygon(points):
        if filled:
            draw.polygon(points, fill=ink)
        else:
            draw.line(points + [points[0]], fill=ink, width=width, joint="curve")

    if kind == "circle":
        box = (cx - r, cy - r, cx + r, cy + r)
        draw.ellipse(box, fill=ink) if filled else draw.ellipse(box, outline=ink, width=width)
    elif kind == "ellipse":
        box = (cx - r, cy - r * rng.uniform(0.3, 0.6), cx + r, cy + r * rng.uniform(0.3, 0.6))
        draw.ellipse(box, fill=ink) if filled else draw.ellipse(box, outline=ink, width=width)
    elif kind in ("square", "triangle"):
        n = 4 if kind == "square" else 3
        polygon([(cx + r * math.cos(rot + 2 * math.pi * k / n), cy + r * math.sin(rot + 2 * math.pi * k / n)) for k in range(n)])
    elif kind == "star":
        pts = []
        for k in range(10):
            rr = r if k % 2 == 0 else r * 0.42
            pts.append((cx + rr * math.cos(rot + math.pi * k / 5), cy + rr * math.sin(rot + math.pi * k / 5)))
        polygon(pts)
    else:
        for a in (rot, rot + math.pi / 2):
            draw.line((cx - r * math.cos(a), cy - r * math.sin(a), cx + r * math.cos(a), cy + r * math.sin(a)),
                      fill=ink, width=width)
    return image


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=".build/nondigits")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--per-kind", type=int, default=400)
    args = parser.parse_args()
    font_paths = fonts() or [None]
    if font_paths == [None]:
        print("no DejaVu fonts found (Debian: apt-get install fonts-dejavu-core); using Pillow's built-in font")
    rng = random.Random(args.seed)
    makers = {
        "letters": lambda i: glyph(rng, LETTERS[i % len(LETTERS)], font_paths[(i // len(LETTERS)) % len(font_paths)]),
        "symbols": lambda i: glyph(rng, SYMBOLS[i % len(SYMBOLS)], font_paths[(i // len(SYMBOLS)) % len(font_paths)]),
        "scribbles": lambda i: scribble(rng),
        "noise": lambda i: noise(rng),
        "patterns": lambda i: pattern(rng),
        "shapes": lambda i: shape(rng),
    }
    for kind, make in makers.items():
        folder = os.path.join(args.out, kind)
        os.makedirs(folder, exist_ok=True)
        for old in glob.glob(os.path.join(folder, "*.png")):
            os.remove(old)
        for i in range(args.per_kind):
            make(i).save(os.path.join(folder, f"{i:04d}.png"))
    print(f"wrote {args.per_kind} pictures each of {', '.join(makers)} into {args.out} "
          f"(fonts: {', '.join(os.path.basename(p) for p in font_paths if p) or 'Pillow default'})")


if __name__ == "__main__":
    main()
