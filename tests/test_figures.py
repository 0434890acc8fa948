"""quizgen.figures: every kind of spec draws in every format, validly and byte-deterministically."""

from __future__ import annotations

import functools
import hashlib
import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import matplotlib
import pytest
from fresh_process import digests_in_fresh_process
from PIL import Image

from quizgen import figures

SAMPLE = Path(__file__).parent / "data" / "sample_questions.json"
XS = [i / 4 for i in range(-8, 9)]


def _sample_specs() -> dict[str, dict]:
    questions = json.loads(SAMPLE.read_text(encoding="utf-8"))
    return {q["template"]: q["figure"] for q in questions if q["figure"]}


SPECS = {
    **_sample_specs(),   # tangent (curves + point), data_fit (errorbars + residuals), contour_path
    "secant-all-styles": {
        "kind": "secant", "title": "Secant through $(a, f(a))$", "xlabel": "$x$", "ylabel": "$f(x)$",
        "curves": [{"x": XS, "y": [x ** 3 - x for x in XS], "label": f"{style}", "style": style}
                   for style in ("solid", "dashed", "dotted", "dashdot")],
        "points": [{"x": 0.5, "y": -0.375, "label": "$a$"}, {"x": 1.5, "y": 1.875, "label": None}],
        "segments": [{"x": [0.5, 0.5], "y": [0.0, -0.375], "style": "dotted"},
                     {"x": [0.5, 1.5], "y": [-0.375, -0.375], "style": "dashed"}],
    },
    "weighted-fit": {
        "kind": "data_fit", "title": r"Weighted fit, $\chi^2 = 1.3$", "xlabel": "$x$", "ylabel": "$y$",
        "curves": [{"x": [0, 5], "y": [0.2, 10.1], "label": "model", "style": "solid"}],
        "points": [], "segments": [],
        "errorbars": {"x": [0, 1, 2, 3, 4, 5], "y": [0.1, 2.3, 3.9, 6.2, 8.0, 10.0],
                      "sigma": [0.2, 0.3, 0.2, 0.4, 0.3, 0.5], "label": "data"},
        "residuals": {"x": [0, 1, 2, 3, 4, 5], "r": [-0.1, 0.1, -0.3, 0.1, -0.1, -0.1]},
    },
    "minimal": {"kind": "tangent", "curves": [{"x": [0, 1, 2, 3], "y": [0, 1, None, 3]}]},  # a gap
    "framed": {"kind": "tangent", "title": "A solution line clipped to the given frame",
               "curves": [{"x": XS, "y": [x * x for x in XS], "label": "$f(x)$"},
                          {"x": [-2, 2], "y": [-40, 40], "label": "tangent", "style": "dashed"}],
               "frame": {"x": [-2, 2], "y": [0, 4]}},
}
SPEC_IDS = sorted(SPECS)


def _assert_valid(data: bytes, fmt: str) -> None:
    if fmt == "svg":
        root = ET.fromstring(data)
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        assert len(root.findall(".//{http://www.w3.org/2000/svg}path")) >= 4   # face, grid, data, frame
        labels = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
        assert sum(bool(re.fullmatch("\N{MINUS SIGN}?[0-9]+(\\.[0-9]+)?", t or "")) for t in labels) >= 6
    elif fmt == "pdf":
        assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    else:
        assert data.startswith(b"\x89PNG\r\n\x1a\n")
        with Image.open(io.BytesIO(data)) as img:
            width, height = img.size
            assert width >= 600 and height >= 400
            assert len(img.getcolors(1 << 16) or range(1 << 16)) > 10   # not a blank image


def test_sample_covers_every_layer():
    layers = {key for spec in SPECS.values() for key, value in spec.items() if value}
    assert {"curves", "points", "segments", "contour", "path", "errorbars", "residuals"} <= layers


@functools.cache
def _drawn(name: str, fmt: str) -> bytes:
    return figures.draw(SPECS[name], fmt)


def _digests() -> dict[str, str]:
    return {f"{name}.{fmt}": hashlib.sha256(_drawn(name, fmt)).hexdigest()
            for name in SPEC_IDS for fmt in figures.FORMATS}


@pytest.mark.parametrize("fmt", figures.FORMATS)
@pytest.mark.parametrize("name", SPEC_IDS)
def test_draws_valid_file(name, fmt):
    _assert_valid(_drawn(name, fmt), fmt)


@pytest.mark.parametrize("fmt", figures.FORMATS)
@pytest.mark.parametrize("name", SPEC_IDS)
def test_same_spec_same_bytes(name, fmt):
    assert figures.draw(json.loads(json.dumps(SPECS[name])), fmt) == _drawn(name, fmt)


@pytest.mark.parametrize("hashseed", ["0", "4242"])
def test_same_bytes_in_another_process(hashseed):
    assert digests_in_fresh_process("test_figures", "_digests", hashseed) == _digests()


@pytest.mark.parametrize("fmt", figures.FORMATS)
def test_no_date_or_version_in_file(fmt):
    data = figures.draw(SPECS["tangent-slope"], fmt)
    assert matplotlib.__version__.encode() not in data
    assert b"CreationDate" not in data and b"<dc:date>" not in data


def test_residuals_drawn_as_second_panel():
    with_res = figures.draw(SPECS["linear-fit"], "svg")
    without = figures.draw({k: v for k, v in SPECS["linear-fit"].items() if k != "residuals"}, "svg")
    assert b'id="axes_2"' in with_res and b'id="axes_2"' not in without


def test_unparseable_mathtext_label_is_drawn_literally():
    spec = {**SPECS["minimal"], "title": r"broken $\frac{1}{$ maths"}
    _assert_valid(figures.draw(spec, "svg"), "svg")


def test_unknown_format_is_refused():
    with pytest.raises(ValueError, match="jpeg"):
        figures.draw(SPECS["minimal"], "jpeg")


def test_labels_of_coinciding_points_are_joined():
    points = [{"x": 1.0, "y": 1.0, "label": "$x_1$"}, {"x": 5.0, "y": 5.0, "label": "$x_2$"},
              {"x": 5.01, "y": 5.0, "label": "$x_3$"}, {"x": 9.0, "y": 9.0, "label": None}]
    assert figures._label_groups(points, 10.0, 10.0) == [((1.0, 1.0), ["$x_1$"]),
                                                         ((5.0, 5.0), ["$x_2$", "$x_3$"])]


@pytest.mark.parametrize("fmt", figures.FORMATS)
def test_nothing_of_earlier_figures_shows(fmt):
    """Label measures and bitmaps are cached per process: a figure drawn after every other
    one is the same as drawn first, in a fresh process."""
    for name in SPEC_IDS:
        for other in SPEC_IDS:
            figures.draw(SPECS[other], fmt)
        assert figures.draw(SPECS[name], fmt) == _drawn(name, fmt), name


@pytest.mark.parametrize("label, plain", [
    ("$x_{2}$, $x_{3}$", "x₂, x₃"), ("$(1.5, -0.375)$", "(1.5, \N{MINUS SIGN}0.375)"),
    ("Taylor about $x = 2$", "Taylor about x = 2"), (r"$\lambda^2$", "λ²"), ("$T_{3}$", "T₃"),
    ("no maths", "no maths"),
])
def test_simple_maths_is_plain_text(label, plain):
    assert figures._text(label) == plain


@pytest.mark.parametrize("label", [r"$\frac{1}{2}$", r"$\int x$", "$x_{q}$", r"$\sqrt{x}$"])
def test_other_maths_stays_mathtext(label):
    assert figures._text(label) == label


def _ticks(data: bytes) -> list[str]:
    texts = ["".join(t.itertext()) for t in ET.fromstring(data).iter("{http://www.w3.org/2000/svg}text")]
    return [t for t in texts if re.fullmatch("\N{MINUS SIGN}?[0-9]+(\\.[0-9]+)?", t)]


def test_frame_fixes_the_axes():
    """With a frame, a layer reaching far outside it (a solution's line) changes no tick."""
    spec = SPECS["framed"]
    given = {**spec, "curves": spec["curves"][:1]}
    ticks = _ticks(_drawn("framed", "svg"))
    assert ticks == _ticks(figures.draw(given, "svg"))
    assert "40" not in ticks and ticks != _ticks(figures.draw({k: v for k, v in spec.items() if k != "frame"}, "svg"))
    assert max(float(t.replace("\N{MINUS SIGN}", "-")) for t in ticks) <= 4.5


# --- caches: what is kept per process gives the bytes matplotlib's own renderers give ------

def _caches_cleared():
    from quizgen import figures_canvas as fc
    fc.clear_caches()
    assert not fc._PDF_BODIES and not fc._PDF_FONTS and not fc._measure.cache_info().currsize


@pytest.fixture
def plain_matplotlib(monkeypatch):
    """Draw with matplotlib's renderers and PdfFile as they are: no replayed label, font or
    style (what any matplotlib other than the 3.11 releases gets: ``REPLAY`` is off)."""
    from quizgen import figures_canvas as fc

    def draw(spec, fmt):
        with monkeypatch.context() as m:
            m.setattr(fc, "REPLAY", False)
            return figures.draw(spec, fmt)
    return draw


@pytest.mark.parametrize("fmt", ["svg", "pdf"])
def test_replayed_labels_and_fonts_are_what_matplotlib_writes(fmt, plain_matplotlib):
    """Every spec drawn with cold caches, then again with warm ones (each figure after all
    the others), gives the bytes of matplotlib's own renderers."""
    import matplotlib
    from quizgen import figures_canvas as fc
    assert fc.REPLAY == matplotlib.__version__.startswith("3.11.")     # on here: the comparison means something
    plain = {name: plain_matplotlib(SPECS[name], fmt) for name in SPEC_IDS}
    _caches_cleared()
    cold = {name: figures.draw(SPECS[name], fmt) for name in SPEC_IDS}
    warm = {name: figures.draw(SPECS[name], fmt) for name in reversed(SPEC_IDS)}
    assert cold == plain and warm == plain


def _titled(title: str, ticks_to: float = 3.0) -> dict:
    return {"kind": "tangent", "title": title, "xlabel": "$x$",
            "curves": [{"x": [0, 1, 2, ticks_to], "y": [0, -1, 4, 9], "label": title}]}


@pytest.mark.parametrize("fmt", ["svg", "pdf"])
def test_different_labels_are_not_confused(fmt, plain_matplotlib):
    """Labels that differ in one character, in size (a legend entry is smaller than a tick
    label) or in what the document gave their glyphs (a minus drawn first or later, Greek
    letters in another font subset) each keep their own text."""
    specs = [_titled("1"), _titled("2"), _titled("\N{MINUS SIGN}1 and α"), _titled("α, then \N{MINUS SIGN}1"),
             _titled("1", ticks_to=30.0), _titled("$x_2$"), _titled("$x_3$")]
    _caches_cleared()
    drawn = [figures.draw(spec, fmt) for spec in specs + specs[::-1]]
    plain = [plain_matplotlib(spec, fmt) for spec in specs + specs[::-1]]
    assert drawn == plain
    assert len(set(drawn[:len(specs)])) == len(specs)


def test_caches_stay_bounded(monkeypatch, plain_matplotlib):
    """Past their bound the oldest entries go, and what is drawn stays the same."""
    from quizgen import figures_canvas as fc
    monkeypatch.setattr(fc, "_PDF_LABELS_MAX", 3)
    monkeypatch.setattr(fc, "_PDF_FONTS_MAX", 2)
    _caches_cleared()
    specs = [_titled(f"title {k}", ticks_to=3.0 + k) for k in range(6)]
    for spec in specs + specs:
        assert figures.draw(spec, "pdf") == plain_matplotlib(spec, "pdf")
        assert len(fc._PDF_BODIES) <= 3 and len(fc._PDF_GLYPHS) <= 3 and len(fc._PDF_FONTS) <= 2


def _draw_in_fork(args):
    return figures.draw(*args)


@pytest.mark.parametrize("fmt", figures.FORMATS)
def test_forked_worker_draws_the_same(fmt):
    """A worker forked with the parent's caches warm draws what the parent draws."""
    import multiprocessing
    for name in SPEC_IDS:
        figures.draw(SPECS[name], fmt)
    with multiprocessing.get_context("fork").Pool(1) as pool:
        forked = pool.map(_draw_in_fork, [(SPECS[name], fmt) for name in SPEC_IDS])
    assert forked == [_drawn(name, fmt) for name in SPEC_IDS]


@pytest.mark.parametrize("rc", [{"pdf.fonttype": 42}, {"pdf.use14corefonts": True}])
def test_pdf_font_settings_are_not_mixed_up(rc, plain_matplotlib):
    """Labels and fonts kept from Type 3 drawings are not replayed into a PDF set otherwise."""
    for name in SPEC_IDS:
        figures.draw(SPECS[name], "pdf")
    with matplotlib.rc_context(rc):
        for name in ("tangent-slope", "secant-all-styles"):
            assert figures.draw(SPECS[name], "pdf") == plain_matplotlib(SPECS[name], "pdf")


def test_marker_extents_kept_per_transform():
    """A marker's bounding box, worked out once per transform, is matplotlib's, and another
    size gets its own."""
    from matplotlib.path import Path
    from matplotlib.transforms import Affine2D
    from quizgen import figures_canvas as fc
    for _ in range(2):                                    # a miss, then hits
        for size in (2.0, 2.5, 4.2):
            trans = Affine2D().scale(size)
            assert (fc._CIRCLE.get_extents(trans).get_points()
                    == Path.unit_circle().get_extents(trans).get_points()).all()
            assert fc._BAR.get_extents(trans).width == pytest.approx(size)
    assert fc._CIRCLE.get_extents(Affine2D().scale(2.0)).width == pytest.approx(4.0)


def test_ticks_kept_per_range_are_fresh_lists():
    """Ticks and their labels come from a cache keyed by the range: the same as worked out
    anew, another range gets its own, and a caller changing its list changes no other."""
    from quizgen import figures_canvas as fc
    first = fc.ticks(-0.3, 2.7, 300.0, 27.0)
    assert first == list(fc._ticks.__wrapped__(-0.3, 2.7, 300.0, 27.0)) == [0.0, 0.5, 1.0, 1.5, 2.0, 2.5]
    assert fc.ticks(-0.3, 27.0, 300.0, 27.0) != first
    first.append(99.0)
    assert fc.ticks(-0.3, 2.7, 300.0, 27.0)[-1] == 2.5
    labels = fc.tick_labels([-1.0, 0.0, 0.5])
    assert labels == ["\N{MINUS SIGN}1.0", "0.0", "0.5"] == fc.tick_labels([-1.0, -0.0, 0.5])
