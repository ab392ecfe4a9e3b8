"""A national conference in the browser: the MC's board and the public page at 3,500 points.

Real Chromium on a live server with a generated plan (bench.national_plan): the board shows
34 provinces with their counts, opens one to its tiles, filters and searches, and a
check-in redraws one tile; the public page fetches a province's points when it is opened.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from bench.national_plan import national_plan_dict, point_id
from runsheet.plans import plan_from_dict
from runsheet.services.ceremony import utc_now
from runsheet.services.plans import install_plan
from tests.conftest import make_app
from tests.live_server import LiveServer, serve
from tests.test_browser import WAIT_MS, Console, Tabs, browser  # noqa: F401 - the fixture

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture
def server(database_url) -> Iterator[LiveServer]:
    app = make_app(database_url)
    svc = app.extensions["runsheet"]
    install_plan(svc.store, plan_from_dict(national_plan_dict()), svc.secret_key, utc_now())
    yield from serve(database_url)


@pytest.fixture
def tabs(browser, server) -> Iterator[Tabs]:  # noqa: F811
    expect.set_options(timeout=WAIT_MS)
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    context.set_default_timeout(WAIT_MS)
    console = Console()
    yield Tabs(context, server, console)
    context.close()
    assert console.unexpected() == []


def group_row(page: Page, path: str):  # noqa: ANN201
    return page.locator(f"#board [data-key='group:{path}']")


def watch_tiles(page: Page) -> None:
    """Record from now on which tiles of the board change (their keys)."""
    page.evaluate(
        """() => {
          window.__changedTiles = new Set();
          new MutationObserver((records) => {
            for (const record of records) {
              const target = record.target;
              const node = target.nodeType === 1 ? target : target.parentElement;
              const tile = node && node.closest(".tile");
              if (tile) window.__changedTiles.add(tile.dataset.key);
            }
          }).observe(document.getElementById("board"),
            { subtree: true, childList: true, characterData: true, attributes: true });
        }"""
    )


def test_the_mc_board_opens_a_province_searches_filters_and_redraws_one_tile(tabs, server):
    mc = tabs.mc()
    board = mc.locator("#board")
    expect(board.locator(".board-group")).to_have_count(34)
    expect(board.locator(".tile")).to_have_count(2)  # the central rooms, outside provinces
    expect(group_row(mc, "Tỉnh 05")).to_contain_text("0/103")

    group_row(mc, "Tỉnh 05").locator("button").click()
    expect(group_row(mc, "Tỉnh 05").locator("button")).to_have_attribute("aria-expanded", "true")
    expect(board.locator(".tile")).to_have_count(2 + 103)
    target = point_id(6)  # the first commune of Tỉnh 05
    tile = board.locator(f".tile[data-key='{target}']")
    expect(tile).to_have_attribute("data-state", "unconfirmed")

    watch_tiles(mc)
    answer = tabs.context.request.post(
        f"{server.url}/api/v1/points/{target}/checkin",
        headers={"Authorization": f"Bearer {server.tokens[target]}"},
        data={"by": "Anh Tâm", "present": 20},
    )
    assert answer.ok, answer.text()
    expect(tile).to_have_attribute("data-state", "offline")  # confirmed; its page is closed
    expect(tile).to_contain_text("Anh Tâm")
    expect(group_row(mc, "Tỉnh 05")).to_contain_text("1/103")
    assert mc.evaluate("[...window.__changedTiles]") == [target]

    mc.locator("#board-search").fill("xa 002 (tinh 05")  # without accents
    expect(board.locator(".tile")).to_have_count(1)
    expect(board.locator(".tile")).to_contain_text("Xã 002 (Tỉnh 05)")
    expect(mc.locator("#board-found")).to_contain_text("1")

    mc.locator("#board-search").fill("")
    mc.locator("#board-filter").select_option("unconfirmed")
    expect(board.locator(".tile")).to_have_count(300)  # the first 300 of 3,499
    expect(mc.locator("#board-found")).to_contain_text("3499")
    mc.locator("#board-filter").select_option("trouble")
    expect(board.locator(".tile")).to_have_count(0)
    mc.locator("#board-filter").select_option("all")
    expect(board.locator(".board-group")).to_have_count(34)


def test_the_public_page_shows_the_provinces_and_fetches_one_when_opened(tabs, server):
    public = tabs.public()
    groups = public.locator("#public-groups .public-group")
    expect(groups).to_have_count(34)
    expect(public.locator("#points .point-row")).to_have_count(2)
    province = public.locator("#public-groups [data-key='Tỉnh 03']")
    province.locator("summary").click()
    expect(province.locator(".point-row")).to_have_count(103)
    commune = point_id(4)  # the first commune of Tỉnh 03
    answer = tabs.context.request.post(
        f"{server.url}/api/v1/points/{commune}/checkin",
        headers={"Authorization": f"Bearer {server.tokens[commune]}"},
        data={"by": "Chị Lan", "present": 9},
    )
    assert answer.ok, answer.text()
    expect(province.locator("summary")).to_contain_text("1/103")
