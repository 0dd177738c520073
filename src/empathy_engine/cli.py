"""The `empathy` command. Each sub-command is thin: it parses, calls the library, reports."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from empathy_engine import __version__
from empathy_engine.extras import MissingExtra, command_needs, extra_of, refuse
from empathy_engine.ingest.kinds import InputFormat
from empathy_engine.input_options import CsvColumnsOpt, InputFormatOpt, SpeakerOpt, read_options
from empathy_engine.privacy import logs as privacy_logs

app = typer.Typer(
    help="Real-time empathy coaching for contact centres: what the customer feels, turn by turn.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True, soft_wrap=True)


class Format(StrEnum):
    jsonl = "jsonl"
    json = "json"
    text = "text"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"empathy-engine {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """empathy-engine command line."""


def _fail(message: str, code: int = 2) -> typer.Exit:
    # Escaped: messages hold paths and pip specs, whose [brackets] are text, not markup.
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    return typer.Exit(code)


@app.command()
def analyze(
    paths: Annotated[
        list[str] | None,
        typer.Argument(
            help="Transcript files (.json/.jsonl conversation v1, .csv, .vtt, or a vendor's JSON with "
            "--input-format), folders, or - for stdin."
        ),
    ] = None,
    fmt: Annotated[
        Format | None,
        typer.Option(
            "--format",
            "-f",
            help="jsonl for programs, json for one document, text for people. "
            "Default: text on a terminal, jsonl otherwise.",
        ),
    ] = None,
    playbook: Annotated[Path | None, typer.Option(help=PLAYBOOK_HELP, envvar="EMPATHY_PLAYBOOK")] = None,
    exemplars: Annotated[Path | None, typer.Option(help=EXEMPLARS_HELP)] = None,
    model: Annotated[str | None, typer.Option(help=MODEL_HELP, envvar="EMPATHY_MODEL")] = None,
    policy: Annotated[Path | None, typer.Option(help=POLICY_HELP)] = None,
    input_format: InputFormatOpt = InputFormat.auto,
    csv_columns: CsvColumnsOpt = None,
    speaker: SpeakerOpt = None,
    explain: Annotated[bool, typer.Option("--explain", help=EXPLAIN_HELP)] = False,
    lexicon: Annotated[Path | None, typer.Option(help=LEXICON_HELP, envvar="EMPATHY_LEXICON")] = None,
) -> None:
    """Analyse recorded conversations turn by turn, exactly as a live call would be.

    Writes one result per conversation. A conversation that cannot be read is reported on
    stderr (file, line, field) and, in jsonl, as {"id": ..., "error": ...}; the others are
    still analysed, and the exit code is 1. See docs/conversation-format.md.
    """
    out = Console(highlight=False, soft_wrap=not sys.stdout.isatty())  # pipes and files get whole lines
    chosen = fmt or (Format.text if sys.stdout.isatty() else Format.jsonl)
    files = _transcript_files(paths, input_format)
    reading = _reading(input_format, csv_columns, speaker)
    total = _count(files, input_format) if err.is_terminal else 0  # nobody sees a bar in a pipe
    engine = _engine(playbook, exemplars, model, explain=explain, lexicon=lexicon, policy=policy)
    failures = _analyze_files(engine, reading(files), chosen, out, total)
    if failures:
        err.print(f"{failures} conversation(s) could not be read; the others were analysed.")
        raise typer.Exit(1)


def _transcript_files(paths: list[str] | None, chosen: InputFormat) -> list[Path | None]:
    """The files to read (exit 2 when a path does not exist or a folder holds none)."""
    from empathy_engine.ingest.formats import SUFFIXES, expand

    try:
        files = expand(paths or [], chosen)
    except FileNotFoundError as e:
        raise _fail(f"no such file or folder: {e.args[0]}") from None
    if not files:
        raise _fail(f"no transcript files ({', '.join(sorted(SUFFIXES[chosen]))}) in {' '.join(paths or [])}")
    return files


def _reading(chosen: InputFormat, csv_columns: list[str] | None, speakers: list[str] | None) -> Any:
    """`files -> conversations` under the reading options (exit 2 when an option is malformed)."""
    from empathy_engine.ingest.formats import read

    try:
        options = read_options(csv_columns, speakers)
    except ValueError as e:
        raise _fail(str(e)) from None
    return lambda files: read(files, chosen, options)


def _count(files: list[Path | None], chosen: InputFormat) -> int:
    from empathy_engine.ingest.formats import count_inputs

    return count_inputs(files, chosen) or 0


def _analyze_files(engine: Any, items: Any, chosen: Format, out: Console, total: int = 0) -> int:
    """Analyse every conversation of `items`, writing each result as it comes; returns how many failed."""
    from empathy_engine.ingest.audio import AudioError
    from empathy_engine.ingest.conversation import InputError, Loaded

    failures = 0
    writer = _JsonWriter() if chosen is Format.json else None
    with _progress(total) as advance:
        for item in items:
            advance()
            if isinstance(item, Loaded):
                try:
                    events = item.events()
                    result = engine.analyze(events)
                except MissingExtra as e:  # audio without the voice extra: every such call would fail alike
                    raise refuse(e) from None
                except Exception as e:  # a bad audio file, or a bug of ours: never cost the user the others
                    reason = str(e) if isinstance(e, AudioError) else f"internal error, please report it: {e!r}"
                    item = InputError(item.where, reason, item.conversation.id)
            if isinstance(item, InputError):
                failures += 1
                err.print(f"[bold red]error:[/] {escape(str(item))}", highlight=False)
                if chosen is Format.jsonl:
                    print(json.dumps({"id": item.id, "error": str(item)}))
                elif writer:
                    writer.add({"id": item.id, "error": str(item)})
                continue
            if chosen is Format.text:
                _print_text(out, events, result)
            elif writer:
                writer.add(result.to_dict())
            else:
                print(json.dumps(result.to_dict(), ensure_ascii=False))
    if writer:
        writer.close()
    return failures


PLAYBOOK_HELP = "A playbook YAML overriding the shipped one (see `empathy playbook`)."
EXEMPLARS_HELP = "An exemplar library from `empathy exemplars build`: proven phrasings for the cards."
POLICY_HELP = "A cue policy from `empathy learn fit`: which phrasing each card shows (docs/learning.md)."
MODEL_HELP = (
    "The bundled text model: text-emotion-v2 (default) or text-emotion-v3 (reads real text and the turn "
    "each turn answers far better; opt-in until its escalation thresholds are refitted, see the README)."
)


EXPLAIN_HELP = (
    "The idiom explainer: a line on the card saying what the customer's phrase usually means in American "
    "English ('I guess it's fine' usually means it isn't), when the engine's reading agrees."
)
LEXICON_HELP = "A lexicon YAML extending or overriding the shipped idioms (see docs/practice.md, 'Lexicon files')."


def _engine(
    playbook: Path | None = None,
    exemplars: Path | None = None,
    model: str | None = None,
    explain: bool = False,
    lexicon: Path | None = None,
    policy: Path | None = None,
) -> Any:
    """The engine, or a clear exit-2 error when the playbook, lexicon, policy or exemplar file is unusable."""
    from dataclasses import replace

    from empathy_engine.coaching.lexicon import LexiconError
    from empathy_engine.coaching.playbook import PlaybookError
    from empathy_engine.pipeline import Engine, EngineSettings

    try:
        chosen = EngineSettings(
            playbook=playbook, exemplars=exemplars, explain=explain, lexicon=lexicon, policy=policy
        )
        return Engine(replace(chosen, model=model) if model else chosen)
    except LexiconError as e:
        raise _fail(f"lexicon: {e}") from None
    except PlaybookError as e:
        raise _fail(f"playbook: {e}") from None
    except OSError as e:
        raise _fail(f"{e.filename}: {e.strerror}") from None
    except ValueError as e:
        raise _fail(str(e)) from None


def _check_policy(policy: Path) -> None:
    from empathy_engine.learning.policy import Policy, PolicyError

    try:
        Policy.load(policy)
    except PolicyError as e:
        raise _fail(str(e)) from None


def _print_text(out: Console, events: list[Any], result: Any) -> None:
    from empathy_engine.events import Utterance
    from empathy_engine.render import render_header, render_summary, render_turn

    render_header(out, events[0])
    for utterance, turn in zip((e for e in events if isinstance(e, Utterance)), result.turns, strict=True):
        render_turn(out, utterance, turn)
    render_summary(out, result.summary)


class _JsonWriter:
    """One object for one conversation, an array for several; streamed, so memory stays flat."""

    def __init__(self) -> None:
        self.first: dict[str, Any] | None = None
        self.count = 0

    def add(self, obj: dict[str, Any]) -> None:
        self.count += 1
        if self.count == 1:
            self.first = obj
            return
        if self.count == 2:
            sys.stdout.write("[\n" + json.dumps(self.first, indent=2, ensure_ascii=False))
        sys.stdout.write(",\n" + json.dumps(obj, indent=2, ensure_ascii=False))

    def close(self) -> None:
        if self.count == 1:
            sys.stdout.write(json.dumps(self.first, indent=2, ensure_ascii=False) + "\n")
        elif self.count > 1:
            sys.stdout.write("\n]\n")


class _progress:
    """A progress bar on stderr when it is a terminal and the input is long (`total` conversations)."""

    LONG = 50

    def __init__(self, total: int) -> None:
        self.total = total
        self.bar: Any = None

    def __enter__(self) -> Any:
        if not err.is_terminal or self.total < self.LONG:
            return lambda: None
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        self.bar = Progress(
            "analysing", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=err, transient=True
        )
        self.bar.start()
        task = self.bar.add_task("analyse", total=self.total)
        return lambda: self.bar.advance(task)

    def __exit__(self, *exc: object) -> None:
        if self.bar:
            self.bar.stop()


@app.command()
def demo(
    call: Annotated[
        str | None,
        typer.Option(help="Play only this call (holiday_furnace, flooded_basement, cost_worry, resigned_customer)."),
    ] = None,
    speed: Annotated[
        float, typer.Option(min=0, help="1 plays in real time, 4 four times faster, 0 without waiting.")
    ] = 1.0,
    playbook: Annotated[Path | None, typer.Option(help=PLAYBOOK_HELP, envvar="EMPATHY_PLAYBOOK")] = None,
    exemplars: Annotated[Path | None, typer.Option(help=EXEMPLARS_HELP)] = None,
) -> None:
    """Play built-in home-services calls through the live pipeline and show what it recognises."""
    from empathy_engine.demo import CALLS, load_call, play

    if call is not None and call not in CALLS:
        raise _fail(f"no demo call {call!r}; choose one of: {', '.join(CALLS)}")
    out = Console(highlight=False)
    engine = _engine(playbook, exemplars)
    try:
        for name in [call] if call else CALLS:
            play(out, engine, load_call(name), speed)
    except KeyboardInterrupt:
        raise typer.Exit(130) from None


@app.command()
def bench(
    calls: Annotated[int, typer.Option(min=4, help="Built-in calls to run (each about 14 turns).")] = 400,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
    model: Annotated[str | None, typer.Option(help=MODEL_HELP, envvar="EMPATHY_MODEL")] = None,
    redaction: Annotated[
        bool, typer.Option("--redaction", help="Time the PII redactor alone, per utterance (budget: p99 ≤ 1 ms).")
    ] = False,
    policy: Annotated[Path | None, typer.Option(help=POLICY_HELP + " Timed with it loaded.")] = None,
) -> None:
    """Measure latency, throughput, memory and per-call state against the budgets ('voice' extra).

    Exits 1 if any budget is broken.
    """
    from rich.table import Table

    from empathy_engine.bench import run

    if not redaction:  # the budgets include the voice path's (prosody, recognition)
        command_needs("voice", "empathy bench")

    if policy is not None:
        _check_policy(policy)  # a broken policy file: a clear error here, not in the child
    try:
        figures, checks = run(calls, model, redaction, policy.resolve() if policy else None)
    except RuntimeError as e:
        raise _fail(f"benchmark failed: {e}", 1) from None
    if as_json:
        print(json.dumps({**figures, "budgets_met": all(c.ok for c in checks)}, indent=2))
    else:
        table = Table(title="empathy-engine bench (one CPU core, single-threaded BLAS)")
        for column in ("measure", "value", "budget", ""):
            table.add_column(column)
        for name, value in figures.items():
            check = next((c for c in checks if c.name == name), None)
            budget = f"{check.op} {check.budget:g}" if check else ""
            verdict = "" if not check else "[green]ok[/]" if check.ok else "[bold red]BROKEN[/]"
            table.add_row(name, f"{value:g}", budget, verdict)
        Console().print(table)
    if not all(c.ok for c in checks):
        raise typer.Exit(1)


exemplars_app = typer.Typer(help="Proven phrasings from your own best calls.", no_args_is_help=True)
app.add_typer(exemplars_app, name="exemplars")


@exemplars_app.command("build")
def exemplars_build(
    calls: Annotated[list[str], typer.Argument(help="Transcript files or folders (as for analyze).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the library (JSON lines).")] = Path(
        "exemplars.jsonl"
    ),
    playbook: Annotated[Path | None, typer.Option(help=PLAYBOOK_HELP, envvar="EMPATHY_PLAYBOOK")] = None,
    input_format: InputFormatOpt = InputFormat.auto,
    csv_columns: CsvColumnsOpt = None,
    speaker: SpeakerOpt = None,
) -> None:
    """Collect agent turns that answered an emotional customer turn well.

    A turn qualifies when it did what the card asked (the playbook step) and the customer's
    state eased over the next two customer turns. Use the result with --exemplars.
    """
    from empathy_engine.audit.exemplars import build_exemplars
    from empathy_engine.ingest.conversation import InputError

    files = _transcript_files(calls, input_format)
    reading = _reading(input_format, csv_columns, speaker)
    engine = _engine(playbook)
    failures = 0

    def conversations() -> Any:
        nonlocal failures
        for item in reading(files):
            if isinstance(item, InputError):
                failures += 1
                err.print(f"[bold red]error:[/] {escape(str(item))}", highlight=False)
            else:
                yield item.events()

    library = build_exemplars(engine, conversations())
    library.save(output)
    err.print(f"{len(library)} exemplar(s) written to {output}", highlight=False)
    if failures:
        raise typer.Exit(1)


@app.command("playbook")
def show_playbook() -> None:
    """Print the shipped playbook: copy it, edit it, pass it with --playbook."""
    from empathy_engine.coaching.playbook import shipped_text

    sys.stdout.write(shipped_text())


# --- sub-commands that live beside their feature (one registration line each) ---
from empathy_engine.audit.command import audit  # noqa: E402

app.command()(audit)
from empathy_engine.learning.command import learn_app  # noqa: E402

app.add_typer(learn_app, name="learn")
from empathy_engine.service.command import serve  # noqa: E402

app.command()(serve)
from empathy_engine.service.accounts_command import keys_app, users_app  # noqa: E402

app.add_typer(keys_app, name="keys")
app.add_typer(users_app, name="users")
from empathy_engine.service.feedback_command import feedback_app  # noqa: E402

app.add_typer(feedback_app, name="feedback")
from empathy_engine.practice.command import practice  # noqa: E402

app.command()(practice)
from empathy_engine.cluster.command import cluster_app  # noqa: E402

app.add_typer(cluster_app, name="cluster")


def main() -> None:
    privacy_logs.install()  # log lines masked like turns (privacy/logs.py)
    try:
        app()
    except MissingExtra as e:  # raised where the library first needs it (audio in a transcript, ...)
        raise SystemExit(_exit_code(refuse(e))) from None
    except ModuleNotFoundError as e:  # a path that imports an extra's module before checking for it
        extra = extra_of(e.name)
        if extra is None:
            raise
        command = " ".join(["empathy", *(a for a in sys.argv[1:2] if not a.startswith("-"))])
        raise SystemExit(_exit_code(refuse(MissingExtra(extra, command)))) from None


def _exit_code(exit: Exception) -> int:
    return int(getattr(exit, "exit_code", 2))
