"""The ``runsheet`` command: initialise, load and export plans, print links, serve.

``runsheet serve`` runs the eventlet server, so eventlet must patch the standard library
before anything else imports it: ``main`` does that first, and this module imports the
application lazily.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import click

# The notice eventlet prints when imported (the runsheet server depends on it, knowingly;
# see README's Performance section), and nothing else: the same filter as pyproject's pytest.
EVENTLET_NOTICE = r"\s*Eventlet is deprecated. It is currently being maintained in bugfix mode"

# Above this many points, ``serve`` prints the MC, public and stage links only.
MOST_POINTS_PRINTED = 30

README_SERVE_THE_WARDS = 'README, "Serve the wards"'


def main() -> None:
    """Run the ``runsheet`` command line."""
    warnings.filterwarnings("ignore", message=EVENTLET_NOTICE, category=Warning)
    if _serving(sys.argv[1:]) and _async_mode() == "eventlet":
        go_green()
    cli(prog_name="runsheet")


def go_green() -> None:
    """Make blocking calls cooperate with eventlet's green threads (before anything else).

    eventlet's monkey-patching covers Python's sockets and ``select``; psycopg 3's C
    extension waits for PostgreSQL in C (``wait_c``), which no monkey-patching reaches, so
    every query would stop every green thread of the process until PostgreSQL answered.
    psycopg picks its wait function when it is first imported, after this, and
    ``PSYCOPG_WAIT_FUNC`` makes it the one that waits on (patched) ``selectors``.
    """
    import eventlet

    os.environ.setdefault("PSYCOPG_WAIT_FUNC", "wait_selector")
    eventlet.monkey_patch()


def _serving(args: list[str]) -> bool:
    return bool(args) and args[0] == "serve"


def _async_mode() -> str:
    return os.environ.get("RUNSHEET_ASYNC_MODE") or "eventlet"


def _app(**overrides):  # noqa: ANN202
    from .app import create_app

    return create_app(overrides or None)


def _services(app):  # noqa: ANN001, ANN202
    return app.extensions["runsheet"]


def _operator():  # noqa: ANN202
    """Return who acts from the command line: the organizer (who runs the installation)."""
    from .services.tokens import Actor

    return Actor("organizer").via("cli")


def _fail(message: str) -> None:
    raise click.ClickException(message)


def command_name(argv0: str | None = None, cwd: str | None = None) -> str:
    """Return how the user can run ``runsheet`` again, as they ran it this time.

    ``runsheet`` when that is on the PATH and is this command; otherwise the path they
    ran (README's install makes ``.venv/bin/runsheet``), relative to the working directory
    when it is inside it.
    """
    argv0 = sys.argv[0] if argv0 is None else argv0
    cwd = os.path.abspath(os.getcwd() if cwd is None else cwd)
    if Path(argv0).stem != "runsheet":
        return "runsheet"  # run some other way (python -c, a test runner): the usual name
    ran = os.path.normpath(os.path.join(cwd, argv0))
    on_path = shutil.which("runsheet")
    if on_path and _same_file(on_path, ran):
        return "runsheet"
    if not ran.startswith(cwd.rstrip(os.sep) + os.sep):
        return ran
    relative = os.path.relpath(ran, cwd)
    # A shell runs a bare name from the PATH only, so one in this folder needs its "./".
    return relative if os.sep in relative else os.path.join(".", relative)


def _same_file(one: str, other: str) -> bool:
    try:
        return os.path.samefile(one, other)
    except OSError:
        return False


@click.group()
def cli() -> None:
    """Run a virtual ceremony: live run-sheet, check-ins, calendar invites."""


@cli.command()
@click.option("--plan", "plan_path", type=click.Path(dir_okay=False), help="Load this plan.")
def init(plan_path: str | None) -> None:
    """Create the database, load the built-in plan if there is none, make tokens."""
    app = _app()
    svc = _services(app)
    if plan_path:
        _install(svc, plan_path, activate=True)
    current = svc.ceremony.current()
    click.echo(f"Database ready: {app.config['DATABASE_URL']}")
    click.echo(f"Active event: {current.plan.event.slug} — {current.plan.event.title}")
    click.echo(f"Print every role's link with: {command_name()} links")


@cli.command()
@click.argument("plan_path", type=click.Path(dir_okay=False))
@click.option("--activate/--no-activate", default=True, help="Make it the active event.")
def load(plan_path: str, activate: bool) -> None:
    """Load a plan file or an xlsx workbook (a new event, or an update of the same slug)."""
    svc = _services(_app())
    installed = _install(svc, plan_path, activate)
    verb = "Loaded new event" if installed.created else "Updated event"
    click.echo(f"{verb} {installed.slug}" + (" (active)" if activate else ""))


def _install(svc, plan_path: str, activate: bool):  # noqa: ANN001, ANN202
    from .plans import PlanError
    from .services.ceremony import utc_now
    from .services.plans import install_plan

    try:
        plan = _read_plan(plan_path)
        installed = install_plan(
            svc.store, plan, svc.secret_key, utc_now(), activate=activate, actor=_operator()
        )
    except PlanError as error:
        _fail(f"the plan file has problems:\n{error}")
    if activate:
        _announce(svc)
    return installed


def _read_plan(plan_path: str):  # noqa: ANN202
    """Read a plan file: YAML, or an xlsx workbook (by its .xlsx name)."""
    from .plans import PlanError, Problem, load_plan_file
    from .plans.workbook import MAX_WORKBOOK_BYTES, NotAWorkbook, plan_from_workbook

    if not plan_path.lower().endswith(".xlsx"):
        return load_plan_file(plan_path)
    try:
        with open(plan_path, "rb") as file:
            content = file.read(MAX_WORKBOOK_BYTES + 1)
        return plan_from_workbook(content, plan_path)
    except OSError as error:
        reason = error.strerror or str(error)
        raise PlanError([Problem("", f"cannot be read: {reason}", None, plan_path)]) from None
    except NotAWorkbook as error:
        raise PlanError([Problem("", str(error), None, plan_path)]) from None


def _announce(svc) -> None:  # noqa: ANN001
    """Tell connected screens about a change made here, through the message queue if any.

    Without a queue, a server sharing the database picks the change up by itself within a
    heartbeat; with one, every process publishes its own changes.
    """
    svc.ceremony.publish(svc.ceremony.current())


@cli.command()
@click.option("--slug", help="Export this event instead of the active one.")
@click.option(
    "-o",
    "--output",
    "--out",
    type=click.Path(dir_okay=False),
    help="Write to a file; a name ending in .xlsx writes a workbook.",
)
@click.option(
    "--lang",
    type=click.Choice(["vi", "en"]),
    default="vi",
    show_default=True,
    help="The language of a workbook's sheets and headers.",
)
def export(slug: str | None, output: str | None, lang: str) -> None:
    """Write the plan of the active event (or of --slug) as a plan file or an xlsx workbook."""
    from .plans import dump_plan
    from .plans.workbook import workbook_bytes

    svc = _services(_app())
    plan = _event(svc, slug).plan
    if output and output.lower().endswith(".xlsx"):
        Path(output).write_bytes(workbook_bytes(plan, lang))
        click.echo(f"Wrote {output}")
        return
    text = dump_plan(plan)
    if output:
        Path(output).write_text(text, encoding="utf-8")
        click.echo(f"Wrote {output}")
    else:
        click.echo(text, nl=False)


def _event(svc, slug: str | None):  # noqa: ANN001, ANN202
    if slug is None:
        stored = svc.store.active_event()
    else:
        stored = svc.store.event_by_slug(slug)
    if stored is None:
        _fail(f"no event with slug {slug!r}" if slug else "no event is loaded")
    return stored


@cli.command()
def events() -> None:
    """List the events in the database (* the active one)."""
    from .services.events import list_events

    svc = _services(_app())
    for event in list_events(svc.store):
        mark = "*" if event.active else " "
        archived = "  (archived)" if event.archived else ""
        click.echo(f"{mark} {event.slug}  {event.title}{archived}")


@cli.command()
@click.argument("slug")
def activate(slug: str) -> None:
    """Make another stored event the active one (open pages move to it)."""
    from .services.events import activate_event

    svc = _services(_app())
    _event_command(lambda: activate_event(svc.store, svc.ceremony, slug, _operator()))
    click.echo(f"Active event: {slug}")


@cli.command()
@click.argument("slug")
def archive(slug: str) -> None:
    """Archive an event that is not the active one (it is kept, and can be restored)."""
    from .services.events import archive_event

    svc = _services(_app())
    _event_command(lambda: archive_event(svc.store, slug, _operator()))
    click.echo(f"Archived event: {slug}")


@cli.command()
@click.argument("slug")
def restore(slug: str) -> None:
    """Restore an archived event, so that it can be made active again."""
    from .services.events import restore_event

    svc = _services(_app())
    _event_command(lambda: restore_event(svc.store, slug, _operator()))
    click.echo(f"Restored event: {slug}")


def _event_command(run):  # noqa: ANN001, ANN202
    from .domain.errors import RunsheetError

    try:
        return run()
    except RunsheetError as error:
        _fail(error.message)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--qr", is_flag=True, help="Draw a QR code for each link (in files with --out).")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="With --qr: write one SVG and one PNG QR code per role into this folder.",
)
@click.option("--slug", help="Links of this event instead of the active one.")
def links(as_json: bool, qr: bool, out_dir: Path | None, slug: str | None) -> None:
    """Print every role's link, each carrying its token."""
    if out_dir is not None and not qr:
        _fail("--out writes QR codes: add --qr")
    svc = _services(_app())
    plan = _event(svc, slug).plan
    found = _role_links(svc, plan)
    if as_json:
        click.echo(json.dumps(found.as_dict(), ensure_ascii=False, indent=2))
        return
    rows = _link_rows(plan, found)
    for row in rows:
        click.echo(f"{row.label}\n  {row.url}")
        if qr and out_dir is None:
            _print_qr(row.url)
    if out_dir is not None:
        written = _write_qr_files(rows, out_dir)
        click.echo(f"Wrote {len(written)} QR codes to {out_dir}:")
        for path in written:
            click.echo(f"  {path.name}")


@dataclass(frozen=True)
class LinkRow:
    """One role's link, its label for people and its file name for QR images."""

    label: str
    url: str
    file_stem: str


def _role_links(svc, plan):  # noqa: ANN001, ANN202
    from .services.plans import role_links

    return role_links(svc.store, plan, svc.secret_key, svc.base_url)


def _link_rows(plan, found) -> list[LinkRow]:  # noqa: ANN001
    rows = [LinkRow("Organizer", found.organizer, "organizer"), LinkRow("MC", found.mc, "mc")]
    rows += [
        LinkRow(plan.point(pid).name, url, f"point-{pid}") for pid, url in found.points.items()
    ]
    rows += [
        LinkRow("Public", found.public, "public"),
        LinkRow("Stage display", found.stage, "stage"),
    ]
    return rows


def _print_qr(url: str) -> None:
    import io

    import segno

    buffer = io.StringIO()
    segno.make(url, error="l").terminal(out=buffer, compact=True)
    click.echo(buffer.getvalue())


def _write_qr_files(rows: list[LinkRow], out_dir: Path) -> list[Path]:
    """Write an SVG and a PNG QR code of each link; return the files written."""
    import segno

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for row in rows:
        # Error correction "m": a printed code still scans with a crease or a smudge.
        code = segno.make(row.url, error="m")
        for suffix in ("svg", "png"):
            path = out_dir / f"{row.file_stem}.{suffix}"
            code.save(str(path), kind=suffix, scale=8, border=4)
            written.append(path)
    return written


@cli.command("rotate-tokens")
@click.option("--slug", help="Rotate this event's tokens instead of the active one's.")
@click.option(
    "--role",
    type=click.Choice(["organizer", "mc", "point"]),
    help="Only this role's link (every other keeps working).",
)
@click.option("--point", "point_id", help="With --role point: only this point's link.")
def rotate_tokens_command(slug: str | None, role: str | None, point_id: str | None) -> None:
    """Replace every token (or one role's), so that their earlier links stop working."""
    from .domain.errors import RunsheetError
    from .services.ceremony import utc_now
    from .services.plans import rotate_tokens

    if point_id is not None and role is None:
        role = "point"
    svc = _services(_app())
    stored = _event(svc, slug)
    try:
        rotate_tokens(
            svc.store, stored.slug, svc.secret_key, utc_now(), role, point_id, _operator()
        )
    except RunsheetError as error:
        _fail(error.message)
    if role is None:
        which = "every link"
    elif point_id is not None:
        which = f"point {point_id}'s link"
    else:
        which = {"point": "every point's link"}.get(role, f"the {role}'s link")
    click.echo(
        f"New tokens made: {which} changed, and the earlier one no longer works. "
        f"Print the new ones: {command_name()} links"
    )


# -- calendar invites (issue 4, owned by the calendar engineer) --------------------------


@cli.command()
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write the .ics files into (created if missing).",
)
@click.option("--cancel", is_flag=True, help="Write the matching METHOD:CANCEL files instead.")
def invites(out_dir: Path, cancel: bool) -> None:
    """Write one e-mail invitation (.ics) per point contact with an e-mail; send none."""
    from .domain.errors import RunsheetError
    from .services.ceremony import utc_now

    try:
        paths = _services(_app()).write_invites(out_dir, cancel, utc_now())
    except RunsheetError as error:
        _fail(error.message)
    kind = "cancellations" if cancel else "invitations"
    click.echo(f"Wrote {len(paths)} {kind} to {out_dir} (attach each to a mail to its contact):")
    for path in paths:
        click.echo(f"  {path.name}")


# -- end of calendar invites ---------------------------------------------------------------


@cli.command()
@click.option(
    "--host", default=lambda: os.environ.get("HOST", "127.0.0.1"), show_default="127.0.0.1"
)
@click.option(
    "--port",
    type=int,
    default=lambda: int(os.environ.get("PORT", "5000")),
    show_default="$PORT or 5000",
)
def serve(host: str, port: int) -> None:
    """Serve the ceremony (eventlet unless RUNSHEET_ASYNC_MODE says otherwise)."""
    _refuse_a_weak_secret_key()
    import signal

    from .extensions import socketio
    from .transports.collector import Collector
    from .transports.sockets import start_sockets, stop_sockets

    public_host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    base_url_given = bool(os.environ.get("RUNSHEET_BASE_URL"))
    os.environ.setdefault("RUNSHEET_BASE_URL", f"http://{public_host}:{port}")
    app = _app(ASYNC_MODE=_async_mode())
    _greet(_services(app), host, port, base_url_given)
    # SIGTERM (a process manager stopping us) ends the server like Ctrl-C, so that this
    # process records that its pages left instead of leaving them "online" until the grace
    # period of a dead process runs out.
    signal.signal(signal.SIGTERM, _exit_on_sigterm(app.config["ASYNC_MODE"]))
    start_sockets(app)
    collector = Collector(socketio)
    collector.start()
    try:
        if app.config["ASYNC_MODE"] == "eventlet":
            from .transports.server import serve_eventlet

            serve_eventlet(app, host, port)
        else:
            socketio.run(app, host=host, port=port, log_output=False, allow_unsafe_werkzeug=True)
    finally:
        collector.stop()
        stop_sockets(app)


def _greet(svc, host: str, port: int, base_url_given: bool) -> None:  # noqa: ANN001
    """Say where the server listens, every role's link, and how to print them again."""
    plan = svc.ceremony.current().plan
    shown_host = f"[{host}]" if ":" in host else host
    click.echo(f"runsheet: serving {plan.event.slug} on http://{shown_host}:{port}")
    rows = _link_rows(plan, _role_links(svc, plan))
    if len(plan.points) > MOST_POINTS_PRINTED:
        rows = [row for row in rows if not row.file_stem.startswith("point-")]
    for row in rows:
        click.echo(f"  {row.label}: {row.url}")
    again = f"{command_name()} links"
    if not base_url_given and svc.base_url != _default_base_url():
        # ``links`` in another shell would not know this server's host and port.
        again = f"RUNSHEET_BASE_URL={svc.base_url} {again}"
    if len(plan.points) > MOST_POINTS_PRINTED:
        click.echo(f"runsheet: the links of the {len(plan.points)} points: `{again}`")
    else:
        click.echo(f"runsheet: print these links again with `{again}` (`--qr` for QR codes)")
    if not base_url_given and _loopback(host):
        click.echo(
            "runsheet: these links open on this computer only, not on the wards' phones: "
            f"see {README_SERVE_THE_WARDS}"
        )
    elif not base_url_given:
        click.echo(
            f"runsheet: the links say {svc.base_url}: set RUNSHEET_BASE_URL to the address "
            f"the wards open ({README_SERVE_THE_WARDS})"
        )


def _default_base_url() -> str:
    from .config import from_environment

    return from_environment({"PORT": os.environ.get("PORT", "")})["BASE_URL"]


def _loopback(host: str) -> bool:
    return host == "localhost" or host == "::1" or host.startswith("127.")


def _refuse_a_weak_secret_key() -> None:
    from .config import secret_key_problem

    problem = secret_key_problem(os.environ)
    if problem:
        _fail(problem)


def _exit_on_sigterm(async_mode: str):  # noqa: ANN202
    """Return a SIGTERM handler that ends ``serve`` whichever (green) thread it interrupts."""

    def stop(*_: object) -> None:
        if async_mode != "eventlet":
            sys.exit(0)
        from eventlet import hubs

        # Raised right here, SystemExit would end only the green thread that happened to be
        # running (say, a disconnect handler, which logs it while the server serves on, until
        # it is killed). Raised from the hub, it ends the hub's loop and the server with it.
        hubs.get_hub().schedule_call_global(0, sys.exit, 0)

    return stop
