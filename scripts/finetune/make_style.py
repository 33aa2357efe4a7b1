#!/usr/bin/env python3
"""Builds a folder of digits in a style of "handwriting" MNIST handles badly, for `mnist-adder finetune`.

Writes DIR/<digit>/<n>.png in the ImageFolder layout that `serve --collect` writes and that
`mnist-adder evaluate --image-folder` and `finetune --image-folder` read. Each picture is a
digit drawn with a font as it appears on a filled-in form, on a 160x160 white page in black ink:

  typed       the digit alone, in one of the DejaVu and Liberation fonts (serif, sans, mono;
              regular, bold, light, italic), stroke thickness and slant varied a little
  underlined  the same, with a line under it, as on a form's dotted line
  boxed       the same, inside the square of a form's character box

The fonts' "1" with its flag and foot, the "4" closed at the top, the "7" with a serif and
the thin serif strokes are far from MNIST's American high-school hands, and the line or the box
becomes part of the digit's bounding box when `predict` crops it (the digit then comes out small,
with a bar or a frame). `mnist-adder evaluate --image-folder DIR` gives the shipped model's accuracy on them.

The set is a pure function of --seed (Python's random, Pillow's drawing and the fonts installed):
the same seed gives the same pictures. Fonts come with Debian's fonts-dejavu-core and
fonts-liberation packages (apt-get install fonts-dejavu-core fonts-liberation).

Usage: make_style.py --out DIR [--style underlined] [--per-digit 30] [--seed 0]
"""
import argparse
import glob
import math
import os
import random

from PIL import Image, ImageDraw, ImageFont

SIDE = 160
FONT_GLOBS = ["/usr/share/fonts/truetype/dejavu/DejaVu*.ttf", "/usr/share/fonts/truetype/liberation/Liberation*.ttf"]


def fonts():
    """The font files found (the math font left out: its digits are the Sans ones)."""
    found = sorted(p for g in FONT_GLOBS for p in glob.glob(g) if "Math" not in p)
    if not found:
        raise SystemExit("make_style.py: no DejaVu or Liberation font found; apt-get install fonts-dejavu-core fonts-liberation")
    return found


def draw_digit(digit, style, rng, font_files):
    """One 160x160 grayscale picture of `digit` in `style`."""
    font = ImageFont.truetype(rng.choice(font_files), rng.randint(70, 96))
    stroke = rng.choice([0, 0, 0, 1, 2])
    # The glyph on its own transparent layer, slanted by a shear, then pasted on the page.
    layer = Image.new("L", (SIDE * 2, SIDE * 2), 0)
    d = ImageDraw.Draw(layer)
    d.text((SIDE, SIDE), str(digit), font=font, fill=255, anchor="mm", stroke_width=stroke, stroke_fill=255)
    shear = rng.uniform(-0.25, 0.25)
    layer = layer.transform(layer.size, Image.AFFINE, (1, shear, -shear * SIDE, 0, 1, 0), resample=Image.BILINEAR)
    box = layer.getbbox()
    glyph = layer.crop(box)
    page = Image.new("L", (SIDE, SIDE), 255)
    w, h = glyph.size
    x = (SIDE - w) // 2 + rng.randint(-6, 6)
    y = (SIDE - h) // 2 + rng.randint(-6, 6)
    page.paste(0, (x, y), glyph)
    draw = ImageDraw.Draw(page)
    width = rng.randint(2, 5)
    if style == "underlined":
        under = y + h + rng.randint(6, 14)
        reach = int(w * rng.uniform(0.3, 0.7)) + 12
        draw.line([(x - reach, under), (x + w + reach, under + rng.randint(-2, 2))], fill=0, width=width)
    elif style == "boxed":
        side = max(w, h) + rng.randint(18, 34)
        cx, cy = x + w // 2 + rng.randint(-4, 4), y + h // 2 + rng.randint(-4, 4)
        half = side // 2
        draw.rectangle([cx - half, cy - half, cx + half, cy + half], outline=0, width=width)
    return page


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="the folder to write (class folders 0 to 9 inside)")
    parser.add_argument("--style", choices=["typed", "underlined", "boxed"], default="underlined")
    parser.add_argument("--per-digit", type=int, default=30, help="pictures of each digit (default 30)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    font_files = fonts()
    for digit in range(10):
        folder = os.path.join(args.out, str(digit))
        os.makedirs(folder, exist_ok=True)
        for n in range(args.per_digit):
            draw_digit(digit, args.style, rng, font_files).save(os.path.join(folder, f"{args.style}-{n:04d}.png"))
    print(f"wrote {10 * args.per_digit} {args.style} digits ({len(font_files)} fonts) into {args.out}")


if __name__ == "__main__":
    main()
