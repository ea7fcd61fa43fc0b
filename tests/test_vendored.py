"""Every copy of jQuery in the project is the recorded release, byte for byte."""
from vendored import JQUERY, sha256
from workshop.stages import ROOT


def test_every_jquery_in_the_project_is_a_recorded_copy():
    found = sorted(
        str(path.relative_to(ROOT))
        for path in ROOT.glob("*/static/jquery*.js")
        if not path.is_relative_to(ROOT / "workspace")
    )
    assert found == sorted(JQUERY["copies"])


def test_each_copy_matches_the_recorded_version_and_checksum():
    for copy in JQUERY["copies"]:
        content = (ROOT / copy).read_bytes()
        assert sha256(content) == JQUERY["sha256"], f"{copy} is not the recorded jQuery."
        assert content.startswith(f"/*! jQuery v{JQUERY['version']} ".encode()), (
            f"{copy} lost its license banner."
        )
