"""What vendored.json records of the files copied into the project (jQuery)."""

import hashlib
import json

from workshop.stages import ROOT

JQUERY = json.loads((ROOT / "vendored.json").read_text())["jquery"]


def sha256(content):
    return hashlib.sha256(content).hexdigest()
