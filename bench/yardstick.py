"""Run the team's reference yardstick (``../shared/bench``) against runsheet and its peer.

The yardstick is a Node load client (``client/bench.js``) and a minimal Node socket.io
server (``node-ref/server.js``) that can push exactly the state JSON runsheet pushes. This
script serves runsheet on a fresh database, measures it with the Node client (the MC's
token, the 13 points with theirs, the rest public viewers), saves its state, stops it,
then serves the reference with the saved state and measures it the same way, one after
the other. Results go to ``--out`` as the yardstick's own JSON, one file per server, and
``payloads.json``: the bytes of the state each server pushed to a viewer.

The state is saved at the end of runsheet's run (``--state-at end``, the default): live,
its points connected, as runsheet pushed it to every viewer, so that both servers push
the same payload. With ``--state-at start`` it is saved before the run, as until
2026-12-04: the ceremony not started and no point connected, about 8 % fewer bytes than
runsheet pushes once it is live, which the reference then has the advantage of (the load
client's time per message grows with its bytes).

    .venv/bin/python -m bench.yardstick --yardstick /tmp/bench --clients 1000 --out bench/results

``--yardstick`` is a copy of ``../shared/bench`` with ``npm ci`` run in ``client`` and
``node-ref`` (see its README).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from .fanout import ROOT, wait_for_quiet
from .servers import deploy, free_port

POINTS = 13


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--yardstick", type=Path, required=True, help="a ready copy of ../shared/bench")
    add("--clients", type=int, default=1000, help="clients in all, the 13 points included")
    add("--advances", type=int, default=50)
    add("--interval", type=float, default=100, help="ms between advances")
    add("--deflate", choices=("on", "off"), default="on", help="offer permessage-deflate")
    add("--source", type=Path, default=ROOT, help="checkout whose runsheet is served")
    add("--servers", default="runsheet,node", help="which to measure, in this order")
    add("--env", action="append", default=[], help="extra NAME=VALUE for runsheet")
    add("--state-at", choices=("start", "end"), default="end", help="when the state is saved")
    add("--tag", default="", help="added to the result names")
    add("--out", type=Path, default=ROOT / "bench" / "results")
    add("--idle-wait", type=float, default=300)
    add("--idle-percent", type=float, default=25)
    add("--max-other", type=float, default=30, help="rerun if others used more (%% of a core)")
    add("--attempts", type=int, default=3, help="runs at most, when others disturb them")
    return parser.parse_args(argv)


def measure(args: argparse.Namespace, url: str, token: str, points: dict, pid: int, name: str):
    """Run the Node load client against ``url`` until other processes left it alone."""
    for attempt in range(1, args.attempts + 1):
        result = measure_once(args, url, token, points, pid, name)
        other = (result or {}).get("machine", {}).get("otherProcessesPctDuringAdvances", 0)
        if other <= args.max_other:
            return result
        print(f"others used {other:.0f} % of a core during run {attempt}; measuring again")
    return result


def measure_once(args: argparse.Namespace, url: str, token: str, points: dict, pid: int, name: str):
    """Run the Node load client against ``url`` once; return its JSON summary."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as extra:
        json.dump({"points": points}, extra)
    out = args.out / f"{name}.json"
    busy = wait_for_quiet(args.idle_wait, args.idle_percent)
    command = [
        "node",
        str(args.yardstick / "client" / "bench.js"),
        "--url", url,
        "--protocol", "runsheet",
        "--token", token,
        "--extra-auth-clients", extra.name,
        "--clients", str(args.clients - len(points)),
        "--advances", str(args.advances),
        "--interval", str(args.interval),
        "--deflate", args.deflate,
        "--drain", "30000",
        "--max-seconds", "600",
        "--pid", str(pid),
        "--label", name,
        "--json", str(out),
    ]  # fmt: skip
    print(f"== {name} (others busy {busy:.0f} % of a core)", flush=True)
    text = subprocess.run(command, capture_output=True, text=True, timeout=700).stdout
    (args.out / f"{name}.txt").write_text(text)
    print("\n".join(line for line in text.splitlines() if not line.startswith("RESULT ")))
    Path(extra.name).unlink()
    return json.loads(out.read_text()) if out.exists() else None


def run_runsheet(args: argparse.Namespace, state_file: Path) -> None:
    """Serve runsheet, measure it, save its state to ``state_file`` (see ``--state-at``)."""
    extra = dict(item.split("=", 1) for item in args.env)
    with tempfile.TemporaryDirectory(prefix="runsheet-yardstick-") as folder:
        with deploy(Path(folder), args.source, 1, None, None, extra) as served:
            url = served.urls[0]
            if args.state_at == "start":
                state_file.write_text(requests.get(f"{url}/api/v1/state", timeout=10).text)
            name = f"runsheet-{args.clients}{args.tag}"
            measure(args, url, served.mc_token, served.point_tokens, served.pids[0], name)
            live = requests.get(f"{url}/api/v1/state", timeout=10).text
            if args.state_at == "end":
                state_file.write_text(live)
            record_payload(args, "runsheet", live)


def record_payload(args: argparse.Namespace, server: str, state_text: str) -> None:
    """Add to ``payloads.json`` the bytes of the state ``server`` pushed to a viewer.

    As on the wire: compact UTF-8 JSON (the HTTP API's answer may escape non-ASCII text,
    which neither server does on its sockets).
    """
    state = json.loads(state_text)
    pushed = json.dumps(state, ensure_ascii=False, separators=(",", ":")).encode()
    path = args.out / "payloads.json"
    payloads = json.loads(path.read_text()) if path.exists() else {}
    payloads[f"{server}-{args.clients}{args.tag}"] = {
        "state_bytes": len(pushed),
        "state_at": args.state_at,
        "version": state.get("version"),
    }
    path.write_text(json.dumps(payloads, indent=2) + "\n")
    print(f"{server}: a viewer's state is {len(pushed)} bytes (version {state.get('version')})")


def run_node(args: argparse.Namespace, state_file: Path) -> None:
    """Serve the reference with runsheet's saved state, measure it."""
    port = free_port()
    server = args.yardstick / "node-ref" / "server.js"
    command = ["node", str(server), "--runsheet", "--state-file", str(state_file)]
    process = subprocess.Popen(command + ["--port", str(port)], stdout=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.get(f"{url}/api/v1/state", timeout=2)
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        state = json.loads(state_file.read_text())
        points = {point["id"]: f"pt-{point['id']}" for point in state["points"]}
        measure(args, url, "test-token", points, process.pid, f"node-ref-{args.clients}{args.tag}")
        record_payload(args, "node-ref", requests.get(f"{url}/api/v1/state", timeout=10).text)
    finally:
        process.terminate()
        process.wait(timeout=15)


def main(argv: list[str] | None = None) -> int:
    """Measure the servers named in ``--servers`` one after the other."""
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    state_file = args.out / "state.json"
    for server in args.servers.split(","):
        if server == "runsheet":
            run_runsheet(args, state_file)
        elif server == "node":
            if not state_file.exists():
                run_runsheet(args, state_file)
            run_node(args, state_file)
        else:
            raise SystemExit(f"unknown server {server!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
