"""Screenshots of the pages. `make screenshots` saves them where the lesson uses them."""

from PIL import Image

GAP = 24  # pixels between two windows


def side_by_side(left, right, target):
    """Save two screenshots as one picture, left and right, on a light grey ground."""
    images = [Image.open(left), Image.open(right)]
    width = sum(image.width for image in images) + 3 * GAP
    height = max(image.height for image in images) + 2 * GAP
    picture = Image.new("RGB", (width, height), "#d5dbe0")
    picture.paste(images[0], (GAP, GAP))
    picture.paste(images[1], (2 * GAP + images[0].width, GAP))
    picture.save(target, optimize=True)
