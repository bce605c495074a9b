"""Photos for the report tests, made with Pillow: a camera-like JPEG with GPS in its EXIF, and
an iPhone-like HEIC encoded with pillow-heif (libheif and x265 ship in its wheel)."""

from __future__ import annotations

import io

import pillow_heif
from PIL import ExifTags, Image

GPS_IFD = ExifTags.IFD.GPSInfo
ORIENTATION = 0x0112

pillow_heif.register_heif_opener()  # Pillow reads and writes HEIF from here on


def _phone_shot(width: int, height: int, orientation: int) -> tuple[Image.Image, Image.Exif]:
    """Sideways pixels (stripes, something to compress) and the EXIF a phone writes with them:
    the orientation, the camera's make and the GPS position (三鷹市役所)."""
    picture = Image.new("RGB", (width, height), (200, 40, 40))
    for x in range(0, width, 50):
        picture.paste((20, 20, 180), (x, 0, x + 10, height))
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[0x010F] = "PhoneMaker"
    exif[GPS_IFD] = {1: "N", 2: (35.0, 40.0, 59.0), 3: "E", 4: (139.0, 33.0, 35.0)}
    return picture, exif


def camera_jpeg(width: int = 2400, height: int = 1200, *, orientation: int = 6) -> bytes:
    """A JPEG as a phone writes it: sideways pixels with an EXIF orientation, the camera's
    make, and the GPS position where it was taken (三鷹市役所)."""
    picture, exif = _phone_shot(width, height, orientation)
    out = io.BytesIO()
    picture.save(out, "JPEG", exif=exif, quality=90)
    return out.getvalue()


def iphone_heic(width: int = 2400, height: int = 1200, *, orientation: int = 6) -> bytes:
    """A HEIC as an iPhone writes it: the sensor's sideways pixels, a rotation box (irot) from
    the EXIF orientation, which the EXIF keeps too, with the camera's make and the GPS position
    where it was taken (三鷹市役所). A green band runs down the left edge of the sideways
    pixels: turned by orientation 6 (90° clockwise) it lies along the top."""
    picture, exif = _phone_shot(width, height, orientation)
    picture.paste((0, 200, 0), (0, 0, width // 10, height))
    out = io.BytesIO()
    # As bytes: pillow-heif writes the irot box from the orientation in EXIF bytes (an
    # Image.Exif object is stored without one).
    picture.save(out, "HEIF", exif=exif.tobytes(), quality=80)
    return out.getvalue()


def png_with_alpha(size: int = 200) -> bytes:
    picture = Image.new("RGBA", (size, size), (0, 128, 0, 0))
    picture.paste((0, 128, 0, 255), (50, 50, 150, 150))
    out = io.BytesIO()
    picture.save(out, "PNG")
    return out.getvalue()


def webp(size: int = 300) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (size, size // 2), (10, 100, 200)).save(out, "WEBP")
    return out.getvalue()


def gps_of(data: bytes) -> dict[int, object]:
    with Image.open(io.BytesIO(data)) as opened:
        return dict(opened.getexif().get_ifd(GPS_IFD))


def exif_of(data: bytes) -> dict[int, object]:
    with Image.open(io.BytesIO(data)) as opened:
        return dict(opened.getexif())


def size_of(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as opened:
        return opened.size


def format_of(data: bytes) -> str | None:
    with Image.open(io.BytesIO(data)) as opened:
        return opened.format


def is_green(data: bytes, xy: tuple[int, int]) -> bool:
    """Whether the pixel at ``xy`` is the green band's (JPEG shifts colours a little)."""
    with Image.open(io.BytesIO(data)) as opened:
        pixel = opened.convert("RGB").getpixel(xy)
    assert isinstance(pixel, tuple)
    red, green, blue = pixel[:3]
    return green > 150 and red < 80 and blue < 80
