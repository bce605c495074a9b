"""Photos of reports as the city publishes them.

What a resident uploads is checked to be a real image (JPEG, PNG, WebP, or HEIC/HEIF as
iPhones save them, read by Pillow with the pillow-heif plugin — a renamed text file is
refused), turned upright, then re-encoded from its pixels alone: nothing of the original
file's metadata (EXIF with GPS, XMP, ICC, comments) survives. A JPEG is turned by its EXIF
orientation; a HEIC by its own rotation and mirror boxes (irot/imir), which libheif applies
while decoding — the HEIF standard's place for it — and pillow-heif then sets the EXIF
orientation to 1 so the photo is not turned twice. The published photo is at most 1600 px
on its long side, with a 320 px thumbnail; both are JPEG files in the content-hash file
store.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import IO

import pillow_heif
from PIL import Image, ImageOps, UnidentifiedImageError

from cityos.core.errors import ValidationProblem
from cityos.core.uploads import FileStore

# Pillow opens HEIC/HEIF (what iPhones save) once pillow-heif's opener is registered; the
# format it reports for both is "HEIF".
pillow_heif.register_heif_opener()

# MPO: the JPEG many phone cameras write; HEIF: an iPhone's HEIC (and other HEIF stills)
FORMATS = ("JPEG", "PNG", "WEBP", "MPO", "HEIF")
LONG_SIDE = 1600
THUMB_SIDE = 320
MAX_PIXELS = 60_000_000  # a 60-megapixel photo; more is a decompression bomb, not a camera
QUALITY = 85
MEDIA_TYPE = "image/jpeg"

NOT_AN_IMAGE = (
    "写真として読めません（JPEG・PNG・WebP・HEIC の画像を送ってください） / "
    "not a photo we can read: send a JPEG, PNG, WebP or HEIC image"
)


@dataclass(frozen=True)
class PreparedPhoto:
    """A photo ready to publish: the re-encoded image and its thumbnail, as bytes."""

    image: bytes
    thumbnail: bytes
    width: int
    height: int


def _problem(message: str, field_name: str = "media") -> ValidationProblem:
    return ValidationProblem(f"{field_name}: {message}", errors={field_name: [message]})


def _encode(picture: Image.Image) -> bytes:
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=QUALITY, optimize=True, progressive=True)
    return out.getvalue()


def _pixels_only(picture: Image.Image) -> Image.Image:
    """A new RGB image holding only the pixels (transparency laid on white)."""
    if picture.mode in ("RGBA", "LA", "P", "PA"):
        rgba = picture.convert("RGBA")
        clean = Image.new("RGB", rgba.size, (255, 255, 255))
        clean.paste(rgba, mask=rgba.getchannel("A"))
        return clean
    rgb = picture.convert("RGB")
    clean = Image.new("RGB", rgb.size)
    clean.paste(rgb)
    return clean


def prepare(source: IO[bytes], field_name: str = "media") -> PreparedPhoto:
    """Check and clean an uploaded photo; a ValidationProblem naming ``field_name`` if it is
    not an image we take."""
    try:
        with Image.open(source) as opened:
            if opened.format not in FORMATS:
                raise _problem(NOT_AN_IMAGE, field_name)
            width, height = opened.size
            if width * height > MAX_PIXELS or width < 1 or height < 1:
                raise _problem(
                    f"画像が大きすぎます（{MAX_PIXELS // 1_000_000} メガピクセルまで） / the "
                    f"image is too large (at most {MAX_PIXELS // 1_000_000} megapixels)",
                    field_name,
                )
            opened.load()
            # JPEG: its EXIF orientation. HEIC: already upright from decoding (irot/imir),
            # its EXIF orientation read as 1, so this leaves it as it is.
            upright = ImageOps.exif_transpose(opened)
            picture = _pixels_only(upright)
    except ValidationProblem:
        raise
    except (
        UnidentifiedImageError,
        OSError,
        ValueError,
        SyntaxError,
        EOFError,
        RuntimeError,  # pillow-heif: libheif could not decode the HEIC
        Image.DecompressionBombError,
    ):
        raise _problem(NOT_AN_IMAGE, field_name) from None
    picture.thumbnail((LONG_SIDE, LONG_SIDE), Image.Resampling.LANCZOS)
    thumb = picture.copy()
    thumb.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
    return PreparedPhoto(_encode(picture), _encode(thumb), picture.width, picture.height)


def store(files: FileStore, photo: PreparedPhoto) -> tuple[str, str]:
    """Put the photo and its thumbnail in the file store; their digests."""
    digest, _size, _path = files.put(io.BytesIO(photo.image))
    thumb, _size, _path = files.put(io.BytesIO(photo.thumbnail))
    return digest, thumb


def photo_path(digest: str) -> str:
    return f"/reports/photos/{digest}.jpg"
