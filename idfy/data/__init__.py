"""Datasets for idfy's training demos, held as tensors on the device and batched by tensor ops.

Built-in sets: ``shapes`` (procedural, no download), ``fashion-canvas`` and ``fashion-mnist``; plus
user data (class folders, CSV, YOLO, Pascal VOC, COCO). Start with :func:`make_dataset` and
:func:`iterate_batches`; :func:`load_image` decodes untrusted image files safely. Data means what it says:
float pixels follow one range rule (:mod:`.pixels`), boxes follow EXIF orientation (:mod:`.orientation`,
:mod:`.formats`), and a model meets data through :func:`align_classes` (classes matched by name).
"""

from .base import ImageSet, convert_channels, hflip_batch, iterate_batches, masks_to_boxes, resize_images
from .classes import ClassMismatchError, align_classes, match_classes
from .fashion import FASHION_CLASSES, find_fashion_files, load_fashion, read_idx
from .formats import USER_FORMATS, detect_format, load_user_dataset
from .images import IMAGE_EXTENSIONS, DecodedImage, ImageError, decode_image, load_image
from .orientation import orient_box
from .pixels import pixels_to_uint8
from .registry import describe_datasets, list_datasets, make_dataset
from .shapes import SHAPE_CLASSES, render_shapes
from .splits import DataSpec

__all__ = [
    "FASHION_CLASSES",
    "IMAGE_EXTENSIONS",
    "SHAPE_CLASSES",
    "USER_FORMATS",
    "ClassMismatchError",
    "DataSpec",
    "DecodedImage",
    "ImageError",
    "ImageSet",
    "align_classes",
    "convert_channels",
    "decode_image",
    "describe_datasets",
    "detect_format",
    "find_fashion_files",
    "hflip_batch",
    "iterate_batches",
    "list_datasets",
    "load_fashion",
    "load_image",
    "load_user_dataset",
    "make_dataset",
    "masks_to_boxes",
    "match_classes",
    "orient_box",
    "pixels_to_uint8",
    "read_idx",
    "render_shapes",
    "resize_images",
]
