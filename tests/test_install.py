"""A non-editable `pip install .` must ship the bank, the Jinja templates and the example quiz."""

import subprocess
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_non_editable_install_finds_package_data(tmp_path):
    env_dir = tmp_path / "venv"
    venv.create(env_dir, system_site_packages=True, with_pip=True)
    py = env_dir / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", str(ROOT)],
                   check=True, capture_output=True, cwd=tmp_path)
    code = ("import quizgen.paths as p, quizgen.bank as b; "
            "assert 'site-packages' in str(p.bank_dir()), p.bank_dir(); "
            "assert (p.templates_dir() / 'latex').is_dir(); "
            "assert (p.examples_dir() / 'example-quiz.yaml').is_file(); "
            "print(len(b.load_bank()))")
    out = subprocess.run([str(py), "-c", code], check=True, capture_output=True, text=True, cwd=tmp_path)
    assert int(out.stdout) == len(list((ROOT / "question_bank").rglob("*.yaml")))
