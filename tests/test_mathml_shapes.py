"""TeX -> MathML once per formula shape (quizgen/export/html.py): a formula filled into the
MathML of its shape is, byte for byte, what converting it directly gives."""

import xml.etree.ElementTree as ET

import pytest

from quizgen.export import Paper, QuizSet, html, practice
from quizgen.export.html import MathError

# families of formulas: one shape each, the variants differing in their numbers
FAMILIES = [
    [r"\frac{3}{4} + 2x", r"\frac{5}{7} + 12x", r"\frac{10}{3} + 0.5x"],
    [r"\sqrt[3]{27}", r"\sqrt[5]{32}", r"\sqrt[12]{4096.5}"],                 # mroot: index after base
    [r"x^{2}_{1}", r"x^{5}_{3}", r"x^{10}_{0}"],                             # msubsup: sub first
    [r"\sum_{k=1}^{10} k^{2}", r"\sum_{k=2}^{7} k^{3}"],
    [r"\int_{0}^{3} x \, dx = 4.5", r"\int_{1}^{2} x \, dx = 1.5"],
    [r"x^12 + 3", r"x^12 + 40"],                                             # x^{1}2: the glued digits stay
    [r"a_12 - 3x_1", r"a_12 - 7x_1"],
    [r"\tfrac12 x + 3", r"\tfrac12 x + 8"],
    [r"\frac 12 + 3", r"\frac 34 + 5", r"\frac 1 2 + 3", r"\frac 3 4 + 3"],  # \frac's glued arguments
    [r"\text{12 apples} + 3", r"\text{15 apples} + 4"],                      # digits in \text
    [r"\mathrm{3} + \mathbf{12}", r"\mathrm{4} + \mathbf{1}"],
    [r"\operatorname{tr} H = 3", r"\operatorname{tr} H = -4"],
    [r"2 cm + 3", r"5 cm + 1", r"2cm", r"7cm", r"2 in", r"3 in"],            # dimensions
    [r"1.5.3 + x", r"2.5.3 + x", r"3. x + 2", r"4. x + 1"],                  # numbers by a decimal point
    [r".5x + 1", r".7x + 2", r"x.5 + 1", r"x.2 + 2"],
    [r"-3 + 4", r"-5 + 1", r"+-3", r"+-7", r"- 3", r"- 10"],
    [r"10^{-3}", r"10^{-12}", r"1{,}000 x", r"2{,}500 x"],
    [r"\begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix}^{2}", r"\begin{pmatrix} 5 & 6 \\ 7 & 8.5 \end{pmatrix}^{3}",
     r"\begin{pmatrix} 5 & -6 \\ 7 & 8.5 \end{pmatrix}^{3}", r"\begin{pmatrix} 1 & -2 \\ 3 & 4 \end{pmatrix}^{2}"],
    [r"\begin{aligned} x &= 1 \\[2pt] y &= 2 \end{aligned}", r"\begin{aligned} x &= 3 \\[2pt] y &= 4 \end{aligned}"],
    [r"\begin{array}{c|c} 1 & 2 \\ \hline 3 & 4 \end{array}", r"\begin{array}{c|c} 5 & 6 \\ \hline 7 & 8 \end{array}"],
    [r"\left( 3 \right)^{2}", r"\left( 4 \right)^{5}", r"\left. 3 \right|_{2}", r"\left. 4 \right|_{7}"],
    [r"f'(2) = 3", r"f'(5) = 8", r"f''(2) = 3", r"f''(1) = 0"],
    [r"\sqrt{2}^{3}", r"\sqrt{5}^{7}", r"\overset{3}{\rightarrow} 4", r"\overset{5}{\rightarrow} 1"],
    [r"\binom{5}{2} = 10", r"\binom{7}{3} = 35", r"\lim_{x \to 0} 3x", r"\lim_{x \to 2} 5x"],
    [r"\hspace{2em} 3", r"\hspace{4em} 5", r"\mspace{3mu} 4", r"\mspace{5mu} 7"],   # value read: never shaped
    [r"\genfrac{}{}{0pt}{1}{2}{3}", r"\genfrac{}{}{0pt}{0}{5}{7}"],
    [r"\frac{1}{2", r"\frac{3}{4", r"x^{2} \foo 3", r"x^{5} \foo 4"],       # errors stay errors
    [r"3 x \% 5", r"4 x \% 6"],
    [r"x = 1 \quad \text{or} \quad x = 2", r"x = 7 \quad \text{or} \quad x = 9"],
    [r"1 2 3", r"4 5 6", r"1\,2", r"3\,4", r"1\\2", r"3\\4"],
    # characters the XML round trip of latex2mathml's output treats specially
    [r"a < 3", r"a < 4", r"a > 3", r"a \lt 3 \gt 2", r"\text{a < b} 3", r"\text{a > b]]> c} 3", r"\text{a & b} 3"],
    [r"\& 3", r"\& 4", r"\{ 3 \}", r"\text{\&} 3", r"\text{x &amp; y} 3", r"\text{&#x41;} 3", r"\text{&#65;} 3"],
    [r"\text{ü é} 3", r"\mathbb{R}^{3}", r"\mathbb{R}^{4}", "x\t3\n+ 4", "x\r3", "\\text{\x01} 3", "\\text{\ud800} 3"],
]
TRICKY = [tex for family in FAMILIES for tex in family]


def direct(tex, display=False):
    """The conversion as it was: latex2mathml's MathML text, parsed, checked, re-serialised."""
    parsed = html._parsed
    html._parsed = lambda math: ET.fromstring(html._L2M_WRITE(math))
    try:
        return html._convert(tex, display)
    except MathError as err:
        return f"MathError: {err}"
    finally:
        html._parsed = parsed


def shaped(tex, display=False):
    try:
        return html._tex_to_mathml.__wrapped__(tex, display)       # past the per-formula cache
    except MathError as err:
        return f"MathError: {err}"


@pytest.fixture
def fresh():
    """Empty shape caches before and after (the formula cache is passed by ``shaped``)."""
    html._SHAPES.clear()
    html._FIRST.clear()
    yield
    html._SHAPES.clear()
    html._FIRST.clear()


def shape_of(tex, display=False):
    """The cached shape of ``tex`` (pieces and order), False (not usable) or None (not cached)."""
    spans = html.number_spans(tex)
    cuts = [0, *(i for span in spans for i in span), len(tex)]
    return html._SHAPES.get((tuple(tex[a:b] for a, b in zip(cuts[::2], cuts[1::2])), display))


@pytest.mark.parametrize("display", [False, True])
def test_tricky_formulas_give_the_bytes_of_a_direct_conversion(fresh, display):
    for _ in range(2):                       # first: converted and shapes made; then: filled
        assert [(t, shaped(t, display)) for t in TRICKY] == [(t, direct(t, display)) for t in TRICKY]


def test_shapes_are_shared_where_numbers_are_tokens_and_not_elsewhere(fresh):
    for tex in TRICKY:
        shaped(tex)
    shared = [r"\frac{3}{4} + 2x", r"\sqrt[3]{27}", r"x^{2}_{1}", r"x^12 + 3", r"\tfrac12 x + 8",
              r"\mathrm{3} + \mathbf{12}", r"-3 + 4", r"10^{-3}", r"\left( 3 \right)^{2}", r"f''(2) = 3",
              r"\begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix}^{2}", r"\begin{array}{c|c} 1 & 2 \\ \hline 3 & 4 \end{array}"]
    assert [t for t in shared if not shape_of(t)] == []
    assert shape_of(r"\sqrt[3]{27}")[1] == (1, 0)          # the index (1st number) comes after the base
    assert shape_of(r"x^{2}_{1}")[1] == (1, 0)
    not_shared = [r"\frac 12 + 3", r"\text{12 apples} + 3", r"2 cm + 3", r"2cm", r"2 in", r"1.5.3 + x",
                  r"\begin{aligned} x &= 1 \\[2pt] y &= 2 \end{aligned}"]
    assert [t for t in not_shared if shape_of(t) is not False] == []
    never = [r"\hspace{2em} 3", r"\genfrac{}{}{0pt}{1}{2}{3}", r"3 x \% 5", r"x^{2} \foo 3"]
    assert [t for t in never if shape_of(t) is not None] == []     # not even looked at / errors


def test_a_shape_is_kept_per_display_mode(fresh):
    inline, block = shaped(r"\frac{3}{4}"), shaped(r"\frac{5}{7}", True)
    assert 'display="inline"' in inline and 'display="block"' in block
    assert shaped(r"\frac{1}{2}", True) == direct(r"\frac{1}{2}", True)
    assert shaped(r"\frac{1}{2}") == direct(r"\frac{1}{2}")
    assert shape_of(r"\frac{1}{2}") != shape_of(r"\frac{1}{2}", True)


def test_a_shape_that_does_not_give_the_first_variant_back_is_not_used(fresh):
    tex = r"\frac{3}{4}"
    right = direct(tex)
    assert html._shape(("\\frac{", "}{", "}"), False, ["3", "4"], right)
    assert html._shape(("\\frac{", "}{", "}"), False, ["3", "4"], right.replace("3", "5")) is False


def test_hit_and_miss_give_the_same_bytes_in_any_order(fresh):
    family = [rf"\frac{{{a}}}{{{b}}} x^{{{c}}} - {d}" for a, b, c, d in
              [(1, 2, 3, 4), (10, 20, 3.5, 0), (7, 1, 2, 99), (1, 1, 1, 1)]]
    first = [shaped(t) for t in family]              # miss, make, hit, hit
    html._SHAPES.clear()
    html._FIRST.clear()
    again = [shaped(t) for t in reversed(family)][::-1]
    assert first == again == [direct(t) for t in family]
    assert shape_of(family[0])


def test_every_formula_of_a_bank_sample_gives_the_bytes_of_a_direct_conversion(fresh, monkeypatch):
    """The formulas the HTML and practice pages convert, for 3 variants of every other template."""
    from quizgen.bank import load_bank
    from quizgen.pipeline import generate_questions
    seen = {}
    real = html.tex_to_mathml

    def record(tex, display=False):
        seen[(tex, display)] = None
        return real(tex, display)
    monkeypatch.setattr(html, "tex_to_mathml", record)
    quizset = QuizSet("t", [Paper("", generate_questions(load_bank()[::2], count=3, seed=4))], name="t")
    html.render_pages(quizset)
    practice.render_practice(quizset)
    html._SHAPES.clear()
    html._FIRST.clear()
    formulas = sorted(seen)
    assert len(formulas) > 500
    assert [f for f in formulas if shaped(*f) != direct(*f)] == []
    filled = [f for f in formulas if shape_of(*f)]
    assert len(filled) > len(formulas) / 4            # the shapes are used
