"""`empathy keys create|list|revoke` and `empathy users create|list`, on the configured database
(EMPATHY_DATABASE_URL, or --database). Registered in cli.py; heavy imports stay inside."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

if TYPE_CHECKING:
    from sqlalchemy import Connection

T = TypeVar("T")
keys_app = typer.Typer(
    help="API keys for programs ('serve' extra): stream, telephony, CRM and outcome integrations, admin scripts.",
    no_args_is_help=True,
)
users_app = typer.Typer(
    help="People who log in on the pages ('serve' extra): agents, supervisors, QA leads, admins.",
    no_args_is_help=True,
)

Database = Annotated[
    str | None,
    typer.Option("--database", help="Database URL. Default: EMPATHY_DATABASE_URL, else the user's SQLite file."),
]
Tenant = Annotated[str, typer.Option("--tenant", help="The organisation the account belongs to.")]


@keys_app.callback()
def _keys() -> None:
    from empathy_engine.extras import command_needs

    command_needs("serve", "empathy keys")  # before a password is asked for or a store module imported


@users_app.callback()
def _users() -> None:
    from empathy_engine.extras import command_needs

    command_needs("serve", "empathy users")


def _fail(message: str) -> typer.Exit:
    from rich.console import Console
    from rich.markup import escape  # [brackets] are text: 'empathy-engine[postgres]'

    Console(stderr=True, soft_wrap=True, highlight=False).print(f"[bold red]error:[/] {escape(message)}")
    return typer.Exit(2)


def _note(message: str) -> None:
    typer.echo(message, err=True)


@contextmanager
def _database(url: str | None) -> Iterator[Callable[[Callable[[Connection], T]], T]]:
    """A function running one transaction on the configured database (migrated first)."""
    from empathy_engine.service.settings import Settings
    from empathy_engine.store.db import DatabaseError, open_database

    try:
        db = open_database(url or Settings().database_url)
    except DatabaseError as e:
        raise _fail(str(e)) from None

    def run(change: Callable[[Connection], T]) -> T:
        with db.begin() as connection:
            return change(connection)

    try:
        yield run
    finally:
        db.dispose()


def _check_role(role: str, scopes: list[str], team: str | None, login: str | None) -> None:
    from empathy_engine.service.auth import ROLES, SCOPES

    if role not in ROLES:
        raise _fail(f"--role {role!r}: use one of {', '.join(ROLES)}")
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        raise _fail(f"--scope {unknown[0]!r}: use one of {', '.join(SCOPES)}")
    if role == "integration" and not scopes:
        raise _fail(f"an integration key needs at least one --scope ({', '.join(SCOPES)})")
    if role != "integration" and scopes:
        raise _fail("--scope is for integration keys; other roles have what their role allows")
    if role == "agent" and not login:
        raise _fail("an agent key needs --login: the agent id its calls carry (it sees those calls only)")
    if role == "supervisor" and not team:
        raise _fail("a supervisor needs --team: the team whose calls it follows")


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help="integration, admin, qa_lead, supervisor or agent.")] = "integration",
    scope: Annotated[
        list[str] | None,
        typer.Option(
            help="What an integration key may do (repeat it): stream, telephony, customers, outcomes, metrics, feedback"
        ),
    ] = None,
    name: Annotated[str, typer.Option(help="What the key is for, shown by `keys list`.")] = "",
    team: Annotated[str | None, typer.Option(help="A supervisor key's team.")] = None,
    login: Annotated[str | None, typer.Option(help="An agent key's agent id.")] = None,
    tenant: Tenant = "default",
    database: Database = None,
) -> None:
    """Create a key and print its secret, once: it is stored only as a hash and cannot be shown again.

    Example: empathy keys create --scope stream --name "dialler"   (then: Authorization: Bearer <secret>)
    """
    from empathy_engine.store import accounts, tenancy

    scopes = list(dict.fromkeys(scope or []))
    _check_role(role, scopes, team, login)
    with _database(database) as run:

        def create(c: Connection) -> tuple[accounts.KeyRecord, str, bool]:
            made = tenancy.add_tenant(c, tenant)
            key, secret = accounts.create_key(c, tenant, role, scopes=tuple(scopes), name=name, team=team, login=login)
            return key, secret, made

        key, secret, made = run(create)
    if made:
        _note(f"created tenant {tenant!r}")
    shown = f" [{' '.join(key.scopes)}]" if key.scopes else ""
    _note(f"key {key.id} ({key.role}{shown}, tenant {key.tenant_id}); its secret, shown only this once:")
    sys.stdout.write(secret + "\n")


@keys_app.command("list")
def keys_list(
    tenant: Annotated[str | None, typer.Option("--tenant", help="Only this organisation's keys.")] = None,
    database: Database = None,
) -> None:
    """List keys (never their secrets): id, tenant, role, scopes, name, created, last used, revoked."""
    from empathy_engine.store import accounts

    with _database(database) as run:
        found = run(lambda c: accounts.list_keys(c, tenant))
    if not found:
        _note("no keys yet: empathy keys create --help")
    typer.echo("id\ttenant\trole\tscopes\tname\tcreated\tlast_used\trevoked")
    for k in found:
        when = [d.isoformat(timespec="seconds") if d else "-" for d in (k.created_at, k.last_used_at, k.revoked_at)]
        typer.echo("\t".join([k.id, k.tenant_id, k.role, ",".join(k.scopes) or "-", k.name or "-", *when]))


@keys_app.command("revoke")
def keys_revoke(
    key: Annotated[str, typer.Argument(help="The key's id (from `keys list`), or the whole secret.")],
    database: Database = None,
) -> None:
    """Revoke a key: every request and new socket with it is refused from now on, and open sockets
    close within EMPATHY_AUTH_RECHECK_S."""
    from empathy_engine.store import accounts

    key_id = accounts.key_id_of(key) or key
    with _database(database) as run:
        revoked = run(lambda c: accounts.revoke_key(c, key_id))
    if revoked is None:
        raise _fail(f"no key {key_id!r}; `empathy keys list` shows them")
    _note(f"key {key_id} revoked at {revoked.revoked_at.isoformat(timespec='seconds') if revoked.revoked_at else '?'}")


@users_app.command("create")
def users_create(
    login: Annotated[str, typer.Argument(help="The login; for an agent, the agent id its calls carry.")],
    role: Annotated[str, typer.Option(help="agent, supervisor, qa_lead or admin.")] = "agent",
    team: Annotated[str | None, typer.Option(help="The team: an agent's own, a supervisor's to follow.")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin instead of asking for it.")
    ] = False,
    tenant: Tenant = "default",
    database: Database = None,
    explain: Annotated[bool, typer.Option("--explain", help=EXPLAIN_HELP)] = False,
) -> None:
    """Create a user who logs in at /login. The password is asked for (or read from stdin)."""
    from empathy_engine.service.auth import USER_ROLES
    from empathy_engine.store import accounts, tenancy

    if role not in USER_ROLES:
        raise _fail(f"--role {role!r}: use one of {', '.join(USER_ROLES)} (programs get keys: empathy keys create)")
    if role == "supervisor" and not team:
        raise _fail("a supervisor needs --team: the team whose calls it follows")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    if len(password) < 8:
        raise _fail("the password must have at least 8 characters")
    with _database(database) as run:

        def create(c: Connection) -> accounts.UserRecord | None:
            tenancy.add_tenant(c, tenant)
            return accounts.create_user(c, tenant, login, password, role, team, explain=explain)

        user = run(create)
    if user is None:
        raise _fail(f"there already is a user {login!r} in tenant {tenant!r}")
    _note(f"user {user.login} ({_described(user)}, tenant {user.tenant_id})")


EXPLAIN_HELP = (
    "The idiom explainer on this agent's calls: a line on each card saying what the customer's phrase "
    "usually means in American English (for agents whose first language is not)."
)


def _described(user: Any) -> str:
    return f"{user.role}{', team ' + user.team if user.team else ''}{', idiom explainer on' if user.explain else ''}"


@users_app.command("set")
def users_set(
    login: Annotated[str, typer.Argument(help="The user's login (an agent's agent id).")],
    explain: Annotated[bool, typer.Option("--explain/--no-explain", help=EXPLAIN_HELP)],
    tenant: Tenant = "default",
    database: Database = None,
) -> None:
    """Change a user's settings: the idiom explainer on (or off) for the calls they take."""
    from empathy_engine.store import accounts

    with _database(database) as run:
        user = run(lambda c: accounts.set_explain(c, tenant, login, explain))
    if user is None:
        raise _fail(f"no user {login!r} in tenant {tenant!r}; `empathy users list --tenant {tenant}` shows them")
    _note(f"user {user.login} ({_described(user)}, tenant {user.tenant_id}); live calls keep theirs, new ones follow")


@users_app.command("list")
def users_list(tenant: Tenant = "default", database: Database = None) -> None:
    """List users: login, role, team, created."""
    from empathy_engine.store import accounts

    with _database(database) as run:
        found = run(lambda c: accounts.list_users(c, tenant))
    if not found:
        _note("no users yet: empathy users create --help")
    typer.echo("login\trole\tteam\tcreated\texplain")
    for u in found:
        when = u.created_at.isoformat(timespec="seconds")
        typer.echo("\t".join([u.login, u.role, u.team or "-", when, "on" if u.explain else "-"]))
