"""The ``runsheet`` command: initialise, load and export plans, print links, serve.

``runsheet serve`` runs the eventlet server, so eventlet must patch the standard library
before anything else imports it: ``main`` does that first, and this module imports the
application lazily.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click


def main() -> None:
    """Run the ``runsheet`` command line."""
    if _serving(sys.argv[1:]) and _async_mode() == "eventlet":
        import eventlet

        eventlet.monkey_patch()
    cli(prog_name="runsheet")


def _serving(args: list[str]) -> bool:
    return bool(args) and args[0] == "serve"


def _async_mode() -> str:
    return os.environ.get("RUNSHEET_ASYNC_MODE") or "eventlet"


def _app(**overrides):  # noqa: ANN202
    from .app import create_app

    return create_app(overrides or None)


def _services(app):  # noqa: ANN001, ANN202
    return app.extensions["runsheet"]


def _fail(message: str) -> None:
    raise click.ClickException(message)


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
    click.echo("Print every role's link with: runsheet links")


@cli.command()
@click.argument("plan_path", type=click.Path(dir_okay=False))
@click.option("--activate/--no-activate", default=True, help="Make it the active event.")
def load(plan_path: str, activate: bool) -> None:
    """Load a plan file (a new event, or an update of the event with the same slug)."""
    svc = _services(_app())
    installed = _install(svc, plan_path, activate)
    verb = "Loaded new event" if installed.created else "Updated event"
    click.echo(f"{verb} {installed.slug}" + (" (active)" if activate else ""))


def _install(svc, plan_path: str, activate: bool):  # noqa: ANN001, ANN202
    from .plans import PlanError, load_plan_file
    from .services.ceremony import utc_now
    from .services.plans import install_plan

    try:
        plan = load_plan_file(plan_path)
    except PlanError as error:
        _fail(f"the plan file has problems:\n{error}")
    installed = install_plan(svc.store, plan, svc.secret_key, utc_now(), activate=activate)
    if activate:
        _announce(svc)
    return installed


def _announce(svc) -> None:  # noqa: ANN001
    """Tell connected screens about a change made here, through the message queue if any.

    Without a queue, a server sharing the database picks the change up by itself within a
    heartbeat; with one, every process publishes its own changes.
    """
    svc.ceremony.publish(svc.ceremony.current())


@cli.command()
@click.option("--slug", help="Export this event instead of the active one.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to a file.")
def export(slug: str | None, output: str | None) -> None:
    """Write the plan of the active event (or of --slug) as a plan file."""
    from .plans import dump_plan

    svc = _services(_app())
    plan = _event(svc, slug).plan
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
    """List the events in the database."""
    svc = _services(_app())
    for slug, title, active in svc.store.list_events():
        click.echo(f"{'*' if active else ' '} {slug}  {title}")


@cli.command()
@click.argument("slug")
def activate(slug: str) -> None:
    """Make another stored event the active one."""
    svc = _services(_app())
    stored = _event(svc, slug)
    with svc.store.transaction() as conn:
        svc.store.activate(conn, stored.id)
    _announce(svc)
    click.echo(f"Active event: {slug}")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--qr", is_flag=True, help="Draw a QR code for each link.")
@click.option("--slug", help="Links of this event instead of the active one.")
def links(as_json: bool, qr: bool, slug: str | None) -> None:
    """Print every role's link, each carrying its token."""
    from .services.plans import role_links

    svc = _services(_app())
    plan = _event(svc, slug).plan
    found = role_links(svc.store, plan, svc.secret_key, svc.base_url)
    if as_json:
        click.echo(json.dumps(found.as_dict(), ensure_ascii=False, indent=2))
        return
    rows = [("MC", found.mc)]
    rows += [(plan.point(pid).name, url) for pid, url in found.points.items()]
    rows += [("Public", found.public), ("Stage display", found.stage)]
    for label, url in rows:
        click.echo(f"{label}\n  {url}")
        if qr:
            _print_qr(url)


def _print_qr(url: str) -> None:
    import io

    import segno

    buffer = io.StringIO()
    segno.make(url, error="l").terminal(out=buffer, compact=True)
    click.echo(buffer.getvalue())


@cli.command("rotate-tokens")
@click.option("--slug", help="Rotate this event's tokens instead of the active one's.")
def rotate_tokens_command(slug: str | None) -> None:
    """Replace every token, so that earlier links stop working."""
    from .services.ceremony import utc_now
    from .services.plans import rotate_tokens

    svc = _services(_app())
    stored = _event(svc, slug)
    rotate_tokens(svc.store, stored.slug, svc.secret_key, utc_now())
    click.echo("New tokens made; earlier links no longer work. Print the new ones: runsheet links")


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
    import signal

    from .extensions import socketio
    from .transports.sockets import start_sockets, stop_sockets

    public_host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    os.environ.setdefault("RUNSHEET_BASE_URL", f"http://{public_host}:{port}")
    app = _app(ASYNC_MODE=_async_mode())
    current = _services(app).ceremony.current()
    click.echo(f"runsheet: serving {current.plan.event.slug} on http://{host}:{port}")
    click.echo("runsheet: print every role's link with `runsheet links`")
    # SIGTERM (a process manager stopping us) ends the server like Ctrl-C, so that this
    # process records that its pages left instead of leaving them "online" until the grace
    # period of a dead process runs out.
    signal.signal(signal.SIGTERM, _exit_on_sigterm(app.config["ASYNC_MODE"]))
    start_sockets(app)
    try:
        if app.config["ASYNC_MODE"] == "eventlet":
            from .transports.server import serve_eventlet

            serve_eventlet(app, host, port)
        else:
            socketio.run(app, host=host, port=port, log_output=False, allow_unsafe_werkzeug=True)
    finally:
        stop_sockets(app)


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
