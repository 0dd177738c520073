"""The light install (issue 14): the core is the engine, `analyze`, `audit` and `demo`; the live
service, audio and the audit's charts are extras, and a command that needs a missing one says
which in one line and exits 2.

Three kinds of proof: the dependency metadata; subprocesses in which the extras' modules are
refused by an import hook, as if they were not installed; and (EMPATHY_TEST_INSTALL=1, .ci/run)
a real `pip install` of the package into a fresh venv, then each extra added and its command run.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions, requires
from pathlib import Path

import pytest

from empathy_engine.extras import EXTRAS, MissingExtra, extra_of
from tests.conftest import REPO

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
HEAVY = ("scipy", "matplotlib", "pocketsphinx", "fastapi", "starlette", "uvicorn", "sqlalchemy", "alembic")
CALLS = REPO / "src" / "empathy_engine" / "demo" / "calls"
VOICE_WAV = REPO / "tests" / "fixtures" / "voice" / "base_1.wav"


def _name(requirement: str) -> str:
    """The normalised distribution name of a requirement ("uvicorn[standard]>=0.30" -> "uvicorn")."""
    return re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _extra_names(extra: str) -> set[str]:
    """The distributions an extra names, its own extras' (empathy-engine[serve]) included."""
    names: set[str] = set()
    for requirement in PYPROJECT["optional-dependencies"][extra]:
        if _name(requirement) == "empathy-engine":
            inner = requirement[requirement.index("[") + 1 : requirement.index("]")]
            for part in inner.split(","):
                names |= _extra_names(part.strip())
        else:
            names.add(_name(requirement))
    return names


def test_install_core_requires_none_of_the_extras() -> None:
    core = {_name(r) for r in PYPROJECT["dependencies"]}
    assert core == {"numpy", "tokenizers", "pydantic", "typer", "rich", "holidays", "pyyaml", "google-re2"}
    for extra in EXTRAS:
        assert not core & _extra_names(extra), extra
    assert _extra_names("all") == set().union(*(_extra_names(extra) for extra in EXTRAS))


@pytest.mark.parametrize("extra", sorted(EXTRAS))
def test_install_each_module_an_extra_checks_comes_with_that_extra(extra: str) -> None:
    # The check (extras.py) and the install (pyproject) must name the same things: a module whose
    # distribution the extra does not bring (directly or through one it names) would never be found.
    named = _extra_names(extra)
    brought = set(named)
    for dist in named:
        brought |= {_name(r) for r in requires(dist) or [] if "extra ==" not in r}
    dists = packages_distributions()
    for module in EXTRAS[extra]:
        assert {_name(d) for d in dists.get(module, [])} & brought, f"{module} is not installed by [{extra}]"


def test_install_missing_extra_message_names_the_extra_and_pickles() -> None:
    import pickle

    missing = MissingExtra("voice", "audio analysis")
    expected = "audio analysis needs the 'voice' extra: pip install 'empathy-engine[voice]'"
    assert str(missing) == str(pickle.loads(pickle.dumps(missing))) == expected
    assert extra_of("scipy.signal") == "voice" and extra_of("sqlalchemy.orm") == "serve"
    assert extra_of("numpy") is None and extra_of(None) is None


# --- as if the extras were not installed: an import hook refuses their modules -------------------

BLOCKER = """
import sys
REFUSED = set({refused!r})
class Refuse:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in REFUSED:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None
sys.meta_path.insert(0, Refuse())
"""


@pytest.fixture(scope="module")
def core_only(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of a subprocess in which no extra's module can be imported."""
    hook = tmp_path_factory.mktemp("core-only")
    refused = sorted({m for modules in EXTRAS.values() for m in modules})
    (hook / "sitecustomize.py").write_text(BLOCKER.format(refused=refused))
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(hook), str(REPO)]), "NO_COLOR": "1"}


def _empathy(env: dict[str, str], *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "empathy_engine", *args]
    return subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def test_install_library_engine_imports_no_extra(core_only: dict[str, str]) -> None:
    script = (
        "import sys, json\n"
        "from empathy_engine import Engine\n"
        "r = Engine().analyze({'id': 'c', 'turns': [{'speaker': 'customer', 'text': 'The furnace is out again!'}]})\n"
        f"print(json.dumps([r.turns[0].primary, sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})]))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], env=core_only, capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    primary, imported = json.loads(out.stdout)
    assert primary and imported == []


def test_install_library_parts_of_an_extra_raise_missing_extra_naming_it(core_only: dict[str, str]) -> None:
    script = (
        "from empathy_engine.extras import MissingExtra\n"
        "from empathy_engine.ingest.audio import resample\n"
        "import numpy as np\n"
        "audio = lambda: resample(np.zeros((80, 1), np.float32), 16000)\n"
        "for attempt in (audio, lambda: __import__('empathy_engine.client')):\n"
        "    try:\n"
        "        attempt()\n"
        "    except MissingExtra as e:\n"
        "        print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], env=core_only, capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "audio analysis needs the 'voice' extra: pip install 'empathy-engine[voice]'",
        "empathy_engine.client (websockets) needs the 'serve' extra: pip install 'empathy-engine[serve]'",
    ]


def test_install_core_commands_work_without_any_extra(core_only: dict[str, str], tmp_path: Path) -> None:
    analyzed = _empathy(core_only, "analyze", "-f", "jsonl", str(CALLS / "cost_worry.json"))
    assert analyzed.returncode == 0, analyzed.stderr
    assert json.loads(analyzed.stdout)["id"] == "demo-cost-worry"
    demo = _empathy(core_only, "demo", "--call", "cost_worry", "--speed", "0")
    assert demo.returncode == 0 and "empathy score" in demo.stdout, demo.stderr
    audited = _empathy(core_only, "audit", str(CALLS), "--json", str(tmp_path / "audit.json"), "--workers", "1")
    assert audited.returncode == 0, audited.stderr
    assert len(json.loads((tmp_path / "audit.json").read_text())["calls"]) == 4


def _voice_call(folder: Path) -> Path:
    (folder / "turn.wav").write_bytes(VOICE_WAV.read_bytes())
    call = {"id": "v", "turns": [{"speaker": "customer", "text": "The heating is out.", "audio": "turn.wav"}]}
    (folder / "voice.json").write_text(json.dumps(call))
    return folder / "voice.json"


#: (command, the extra it says it needs, what it names)
NEEDS = [
    (["serve"], "serve", "empathy serve"),
    (["keys", "list"], "serve", "empathy keys"),
    (["users", "create", "someone"], "serve", "empathy users"),
    (["audit", str(CALLS), "--report", "{tmp}/r.html"], "report", "empathy audit --report"),
    (["audit", "--database", "sqlite:///{tmp}/x.db"], "serve", "empathy audit --database"),
    (["bench", "--calls", "4"], "voice", "empathy bench"),
    (["analyze", "-f", "jsonl", "{voice}"], "voice", "audio analysis"),
]


@pytest.mark.parametrize(("args", "extra", "what"), NEEDS, ids=[" ".join(a[:2]) for a, _, _ in NEEDS])
def test_install_command_without_its_extra_says_which_in_one_line(
    core_only: dict[str, str], tmp_path: Path, args: list[str], extra: str, what: str
) -> None:
    filled = [a.format(tmp=tmp_path, voice=_voice_call(tmp_path)) for a in args]
    out = _empathy(core_only, *filled)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert out.stderr.strip() == f"error: {what} needs the '{extra}' extra: pip install 'empathy-engine[{extra}]'"
    assert not (tmp_path / "r.html").exists()


# --- the real thing: pip install into a fresh venv, then each extra and its command ------------

FRESH = "EMPATHY_TEST_INSTALL"


class FreshVenv:
    """A venv of its own (no system site-packages) with the package's wheel installed from PyPI
    (or the pip cache / PIP_FIND_LINKS a machine offers), one extra at a time."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.wheel = self._build_wheel(root / "wheel")
        subprocess.run([sys.executable, "-m", "venv", str(root / "venv")], check=True, timeout=120)
        self.bin = root / "venv" / "bin"
        self.env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")} | {"NO_COLOR": "1"}

    @staticmethod
    def _build_wheel(out: Path) -> Path:
        cmd = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(REPO)]
        subprocess.run(cmd, check=True, capture_output=True, timeout=300)
        return next(out.glob("empathy_engine-*.whl"))

    def install(self, extra: str | None = None) -> None:
        target = f"{self.wheel}[{extra}]" if extra else str(self.wheel)
        cmd = [str(self.bin / "pip"), "install", "-q", "--no-compile", "--disable-pip-version-check", target]
        done = subprocess.run(cmd, env=self.env, capture_output=True, text=True, timeout=600, check=False)
        assert done.returncode == 0, done.stderr[-2000:]

    def installed(self) -> set[str]:
        cmd = [str(self.bin / "pip"), "list", "--format=json", "--disable-pip-version-check"]
        listed = subprocess.run(cmd, env=self.env, capture_output=True, text=True, timeout=120, check=True)
        return {_name(p["name"]) for p in json.loads(listed.stdout)}

    def empathy(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bin / "empathy"), *args]
        return subprocess.run(cmd, env=self.env, cwd=cwd, capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> FreshVenv:
    if not (os.environ.get(FRESH) or os.environ.get("CI")):
        pytest.skip(f"the fresh-venv install test needs a package index and ~1-2 min: {FRESH}=1 runs it (.ci/run does)")
    return FreshVenv(tmp_path_factory.mktemp("fresh"))


def test_install_fresh_venv_core_then_each_extra_and_its_command(fresh: FreshVenv, tmp_path: Path) -> None:
    fresh.install()
    assert not fresh.installed() & {"scipy", "matplotlib", "pocketsphinx", "fastapi", "sqlalchemy", "uvicorn"}
    analyzed = fresh.empathy("analyze", "-f", "jsonl", str(CALLS / "cost_worry.json"))
    assert analyzed.returncode == 0 and json.loads(analyzed.stdout)["id"] == "demo-cost-worry", analyzed.stderr
    _report_extra(fresh, tmp_path)
    _voice_extra(fresh, tmp_path)
    _serve_and_postgres_extras(fresh, tmp_path)


def _report_extra(fresh: FreshVenv, tmp_path: Path) -> None:
    report = tmp_path / "audit.html"
    assert fresh.empathy("audit", str(CALLS), "--report", str(report)).returncode == 2
    fresh.install("report")
    audited = fresh.empathy("audit", str(CALLS), "--report", str(report), "--workers", "1")
    assert audited.returncode == 0 and "<svg" in report.read_text(), audited.stderr


def _voice_extra(fresh: FreshVenv, tmp_path: Path) -> None:
    call = _voice_call(tmp_path)
    assert fresh.empathy("analyze", "-f", "jsonl", str(call)).returncode == 2
    fresh.install("voice")
    analyzed = fresh.empathy("analyze", "-f", "jsonl", str(call))
    assert analyzed.returncode == 0, analyzed.stderr
    assert json.loads(analyzed.stdout)["turns"][0]["voice"] is not None


def _serve_and_postgres_extras(fresh: FreshVenv, tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'service.db'}"
    assert fresh.empathy("keys", "list", "--database", database).returncode == 2
    fresh.install("serve")
    created = fresh.empathy("keys", "create", "--role", "admin", "--database", database)
    assert created.returncode == 0 and created.stdout.strip(), created.stderr
    _serve_answers(fresh, database, created.stdout.strip())
    postgres = "postgresql://nobody:nothing@127.0.0.1:9/none"
    before = fresh.empathy("keys", "list", "--database", postgres)
    assert "pip install 'empathy-engine[postgres]'" in before.stderr
    fresh.install("postgres")
    after = fresh.empathy("keys", "list", "--database", postgres)  # the driver loads; nothing listens there
    assert after.returncode != 0 and "psycopg driver" not in after.stderr and "Traceback" not in after.stderr


def _serve_answers(fresh: FreshVenv, database: str, secret: str) -> None:
    """`empathy serve` starts on the new install and answers an authenticated request."""
    import time

    import httpx

    from tests.service.servers import free_port

    port = free_port()
    env = fresh.env | {"EMPATHY_DATABASE_URL": database}
    cmd = [str(fresh.bin / "empathy"), "serve", "--port", str(port)]
    server = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/v1/health", headers={"Authorization": f"Bearer {secret}"})
                break
            except httpx.TransportError:
                assert server.poll() is None and time.monotonic() < deadline, server.stderr and server.stderr.read()
                time.sleep(0.5)
        assert answer.status_code == 200, answer.text
    finally:
        server.terminate()
        server.wait(timeout=30)
