"""`empathy learn ...`: fit a cue policy, evaluate one off-policy, simulate the loop (docs/learning.md)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

learn_app = typer.Typer(
    help="The learning loop: which phrasing of each card works, learned from outcomes.", no_args_is_help=True
)
err = Console(stderr=True, highlight=False, soft_wrap=True)

Results = Annotated[
    list[Path] | None, typer.Argument(help="Results: JSONL from `empathy analyze`, or audit --json files.")
]
DatabaseOpt = Annotated[
    str | None, typer.Option("--database", help="Also the ended calls of `empathy serve`'s database (SQLAlchemy URL).")
]
TenantOpt = Annotated[str, typer.Option("--tenant", help="The tenant whose calls --database reads.")]
OutcomesOpt = Annotated[
    list[Path] | None, typer.Option("--outcomes", help="Outcomes CSV (call_id, csat, resolved, referral, ...).")
]
RewardOpt = Annotated[
    str,
    typer.Option(
        help="The reward: auto (mean of eased, csat, resolved where known), eased, followed, csat, resolved, "
        "referral or no_repeat."
    ),
]


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", markup=True, highlight=False)
    return typer.Exit(2)


def _scored(
    results: list[Path] | None, outcomes: list[Path] | None, kind: str, database: str | None = None,
    tenant: str = "default",
) -> list[Any]:  # fmt: skip
    from empathy_engine.learning.fit import scored
    from empathy_engine.learning.rewards import REWARDS, ResultsError, read_outcomes, read_results

    if kind not in REWARDS:
        raise _fail(f"--reward: {kind!r} is not one of {', '.join(REWARDS)}")
    if not results and not database:
        raise _fail("give results files (from `empathy analyze` or `empathy audit --json`) or --database URL")
    for path in [*(results or []), *(outcomes or [])]:
        if not path.is_file():
            raise _fail(f"no such file: {path}")
    found, problems = read_outcomes(outcomes or [])
    for problem in problems[:20]:
        err.print(f"warning: {problem} (row skipped)", markup=False)
    try:
        cards = [*read_results(results or []), *(_stored(database, tenant, found) if database else [])]
    except ResultsError as e:
        raise _fail(str(e)) from None
    rows = scored(cards, found, kind)
    if not rows:
        raise _fail(
            "no card with a variant, a propensity and a known reward in the results; analyse calls with this "
            "version (cards carry `variant` and `propensity`) and give --outcomes for the distal rewards"
        )
    return rows


def _stored(database: str, tenant: str, found: dict[str, Any]) -> list[Any]:
    from empathy_engine.extras import command_needs

    command_needs("serve", "empathy learn fit --database")
    from empathy_engine.learning.stored import from_database
    from empathy_engine.store.db import DatabaseError

    try:
        return list(from_database(database, tenant, found))
    except DatabaseError as e:
        raise _fail(str(e)) from None


def _safe(url: str) -> str:
    from empathy_engine.store.db import safe_url  # the password never goes into the policy file

    return str(safe_url(url))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@learn_app.command("fit")
def fit_command(
    results: Results,
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the policy JSON.")],
    outcomes: OutcomesOpt = None,
    reward: RewardOpt = "auto",
    floor: Annotated[float, typer.Option(min=0.001, max=0.5, help="Least probability of any variant.")] = 0.02,
    database: DatabaseOpt = None,
    tenant: TenantOpt = "default",
) -> None:
    """Fit a cue policy: per state, step and context, how often to show each phrasing.

    Writes it with `adopt: false` (and exits 1) when, on held-out calls, it does not beat the
    policy the calls were logged under."""
    from empathy_engine.learning.fit import fit

    rows = _scored(results, outcomes, reward, database, tenant)
    header = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "method": "beta-bernoulli per (state/step, context); P(best) by seeded Monte Carlo, mixed with the floor",
        "reward": reward,
        "data": [
            *({"path": str(p), "sha256": _sha256(p)} for p in [*(results or []), *(outcomes or [])]),
            *([{"database": _safe(database), "tenant": tenant}] if database else []),
        ],
        "cards": len(rows),
        "calls": len({r.card.call_id for r in rows}),
    }
    result = fit(rows, floor, header)
    result.policy.save(output)
    _print_comparison("held-out calls (30%)", result.holdout)
    err.print(f"wrote {output} (version {result.policy.to_json()['header']['version']}, {len(rows)} cards)")
    if not result.adopt:
        err.print("adopt: false: the policy does not beat the one the calls were logged under; keep the current one")
        raise typer.Exit(1)


@learn_app.command("evaluate")
def evaluate_command(
    results: Results,
    policy: Annotated[Path, typer.Option("--policy", help="The policy to evaluate (from `learn fit`).")],
    outcomes: OutcomesOpt = None,
    reward: RewardOpt = "auto",
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
    database: DatabaseOpt = None,
    tenant: TenantOpt = "default",
) -> None:
    """Estimate a policy off-policy against the one the results were logged under; adopt or not.

    SNIPS with 95% bootstrap intervals over calls; adopt only when the difference's interval lies above 0."""
    from empathy_engine.learning.fit import evaluate
    from empathy_engine.learning.policy import Policy, PolicyError

    try:
        chosen = Policy.load(policy)
    except PolicyError as e:
        raise _fail(str(e)) from None
    comparison = evaluate(chosen, _scored(results, outcomes, reward, database, tenant))
    if as_json:
        print(json.dumps({"policy": chosen.version, "reward": reward, **comparison.to_dict()}, indent=2))
    else:
        _print_comparison(f"policy {chosen.version}", comparison, out=Console(highlight=False, soft_wrap=True))


def _print_comparison(title: str, c: Any, out: Console = err) -> None:
    if c is None:
        out.print(f"{title}: too few cards to estimate; adopt: no", markup=False)
        return

    def show(i: Any) -> str:
        return f"{i.value:.3f} [{i.lo:.3f}, {i.hi:.3f}]"

    out.print(f"{title}: {c.cards} cards in {c.calls} calls, reward per card (SNIPS, 95% interval)", markup=False)
    out.print(f"  new policy      {show(c.new)}", markup=False)
    out.print(f"  logging policy  {show(c.logging)}", markup=False)
    out.print(f"  difference      {show(c.difference)}", markup=False)
    verdict = "adopt" if c.beats else "do not adopt (the interval of the difference does not clear 0)"
    out.print(f"  verdict: {verdict}", markup=False)


@learn_app.command("simulate")
def simulate_command(
    seeds: Annotated[int, typer.Option(min=1, max=200, help="Worlds to simulate.")] = 20,
    calls: Annotated[int, typer.Option(min=500, max=500_000, help="Calls per world.")] = 20_000,
    null: Annotated[bool, typer.Option("--null", help="Only the null world (no true differences).")] = False,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="A folder for simulation.json and regret.png.")
    ] = None,
) -> None:
    """Run the loop in simulated contact centres with known truths, and in a null world.

    Against uniform and epsilon-greedy choice in the same worlds; figures and a regret plot (docs/learning.md)."""
    from rich.progress import Progress

    from empathy_engine.learning.simulate import simulate

    with Progress(console=err, transient=True) as progress:
        task = progress.add_task("simulating", total=1 if null else 2)
        found = {} if null else {"world": simulate(seeds, calls)}
        progress.advance(task)
        found["null"] = simulate(seeds, calls, null=True)
        progress.advance(task)
    out = Console(highlight=False, soft_wrap=True)
    _print_simulation(found, out)
    if output is not None:
        output.mkdir(parents=True, exist_ok=True)
        (output / "simulation.json").write_text(json.dumps(found, indent=1) + "\n", encoding="utf-8")
        if "world" in found:
            _plot(found["world"], output / "regret.png")
        out.print(f"wrote {output / 'simulation.json'}", markup=False)


def _print_simulation(found: dict[str, Any], out: Console) -> None:
    if world := found.get("world"):
        out.print(f"{world['seeds']} worlds x {world['calls']:,} calls, best variant 5 points ahead:", markup=False)
        within = world["found_best_90_within_calls"]
        out.print(f"  best variant of a state ranked first in >= 90% of (world, state): within {within} calls")
        regret = world["total_regret_mean"]
        out.print("  total regret (mean over worlds): " + ", ".join(f"{k} {v:,.1f}" for k, v in regret.items()))
        for other in ("uniform", "epsilon_greedy"):
            d = world[f"loop_minus_{other}"]
            share = world[f"loop_below_{other}_share_of_seeds"]
            out.print(
                f"  loop minus {other}: {d['mean']:+,.1f} [{d['lo']:+,.1f}, {d['hi']:+,.1f}] (95%, over worlds); "
                f"below it in {share:.0%} of worlds",
                markup=False,
            )
    null = found["null"]
    out.print(f"null world: a winner declared in {null['declared_winner_share']:.0%} of {null['seeds']} worlds")


def _plot(world: dict[str, Any], path: Path) -> None:
    """Cumulative regret with a 10-90% band over worlds ('report' extra: matplotlib)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib.figure import Figure
    except ImportError:
        err.print("note: no regret.png without matplotlib: pip install 'empathy-engine[report]'", markup=False)
        return
    figure = Figure(figsize=(7, 4))
    axes = figure.subplots()
    x = world["calls_axis"]
    for name, band in world["regret"].items():
        axes.plot(x, band["median"], label=name.replace("_", "-"))
        axes.fill_between(x, band["p10"], band["p90"], alpha=0.2)
    axes.set_xlabel("calls")
    axes.set_ylabel("cumulative regret (successes lost)")
    axes.set_title(f"Regret over {world['seeds']} simulated worlds (median, 10-90% band)")
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
