"""User datasets: class folders, CSV, YOLO, Pascal VOC and COCO.

Every format is read into the same in-memory :class:`ImageSet`, one object per image (when an image
has several, the largest box is used and a note says so). Images are decoded with
:func:`decode_image` and resized to ``size x size`` (plain resize; boxes are normalized so they simply
stay valid). Problems with single items never stop the load: a corrupt image, a bad label line or a
path that leaves the dataset folder is *skipped* and recorded in ``ImageSet.skipped`` as
``(file name, reason)``; every item whose box was changed (turned with the image, clipped) gets a note in
``ImageSet.notes``. User files are only ever read.

Boxes and EXIF orientation (the image is always shown as its EXIF tag says, see
:mod:`idfy.data.orientation`; :mod:`.frames` applies these rules):

* VOC and COCO declare the image size. When it is the size of the *stored* pixels, the box was drawn on
  them and is turned / mirrored with the image (all eight orientations); when it is the *displayed* size,
  the box is kept; when it is neither, the item is skipped with both sizes as the reason (scaling a box
  into another frame is never right). Orientations 2-4 and square images leave both sizes equal: the box
  is then read in the stored frame, where COCO's and VOC's tools draw it.
* YOLO's normalized boxes are read in the displayed frame, the frame the YOLO tools train on (they apply
  the EXIF orientation when reading the image); CSV pixel boxes and VOC / COCO without a size are read in
  the displayed frame too. A note names every such item whose image carried an orientation.

COCO crowd annotations (``iscrowd: 1``) mark a group of objects that COCO leaves out of training and
scoring; they are never used as the object, and an image with nothing else is skipped.

Splits: ``"all"`` is every usable item. ``"train"`` / ``"test"`` use the layout's own split when it
has one (``train/`` and ``test/``/``val/`` folders, YOLO ``images/train``, VOC ``ImageSets/Main``,
a CSV ``split`` column); otherwise a fixed 20% of the files, chosen by a hash of their path, is held
out as ``test`` (the same files on every run and machine).

Layout: one reader per format (:mod:`.imagefolder`, :mod:`.csvfile`, :mod:`.yolo`, :mod:`.voc`, :mod:`.coco`)
turns files into :class:`~.common.Entry` items; :mod:`.detect` tells the formats apart; :mod:`.frames` places
boxes; :mod:`.loader` decodes, splits and builds the :class:`ImageSet`.
"""

from .loader import HOLDOUT_PERCENT, USER_FORMATS, detect_format, load_user_dataset

__all__ = ["HOLDOUT_PERCENT", "USER_FORMATS", "detect_format", "load_user_dataset"]
