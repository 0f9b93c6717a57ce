"""User datasets on disk: class folders, CSV, YOLO, Pascal VOC and COCO, read into one :class:`ImageSet`.

:func:`load_user_dataset` is the entry point and :func:`detect_format` tells the formats apart; the rules
for splits, skipped items, boxes and EXIF orientation are in :mod:`.loader`'s docstring.
"""

from .loader import HOLDOUT_PERCENT, USER_FORMATS, detect_format, load_user_dataset

__all__ = ["HOLDOUT_PERCENT", "USER_FORMATS", "detect_format", "load_user_dataset"]
