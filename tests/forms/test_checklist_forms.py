"""From 手続きナビ to online forms, through the real HTTP app: checklist items with an online
form link to it, the form opens prefilled, answers given in one form of the checklist fill the
next (marked), and filed items show their status on the checklist and on my page."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlencode, urlsplit

from fastapi.testclient import TestClient

from tests.conftest import csrf_of
from tests.forms.conftest import VALID_MY_NUMBER, file_form, resident_with_profile

ANSWERS = {"event": "move_in", "age": "35", "household_ages": "3", "moving_from": "japan"}
CHECKLIST = "/procedures/navi/checklist?" + urlencode(ANSWERS)


def apply_links(page: str) -> dict[str, str]:
    """Each checklist item's 「オンラインで申請」 link, by the item's procedure id."""
    links = {}
    for chunk in page.split('<li class="panel" id="item-')[1:]:
        item_id, body = chunk.split('"', 1)
        found = re.search(r'<a class="button[^"]*" href="([^"]+)">オンラインで申請', body)
        if found:
            links[item_id] = html.unescape(found.group(1))
    return links


def item(page: str, procedure_id: str) -> str:
    return page.split(f'id="item-{procedure_id}"', 1)[1].split('<li class="panel"', 1)[0]


def test_checklist_items_with_an_online_form_link_to_it(client: TestClient) -> None:
    page = client.get(CHECKLIST).text
    links = apply_links(page)
    assert set(links) == {"tennyu", "jido_teate"}  # the procedures that have an online form
    assert "sodai_gomi" in page  # listed, but filed at the counter: no link
    assert links["tennyu"].startswith("/forms/tennyu-pre?navi=")
    assert parse_qs(parse_qs(urlsplit(links["tennyu"]).query)["navi"][0])["event"] == ["move_in"]
    english = client.get(CHECKLIST + "&lang=en").text
    assert "Apply online" in english


def test_answers_of_one_form_fill_the_next_within_the_checklist(client: TestClient) -> None:
    resident_with_profile(client)
    links = apply_links(client.get(CHECKLIST).text)
    form = client.get(links["tennyu"])
    assert form.status_code == 200
    assert form.text.count("登録済みの情報から入力しました") == 4  # once-only from the profile
    assert "この手続きで入力済み" not in form.text
    navi = html.unescape(form.text.split('name="navi" value="', 1)[1].split('"', 1)[0])
    filed = file_form(client, page=form.text, changes={"navi": navi})
    assert filed.status_code == 303, filed.text
    shown = client.get(filed.headers["location"]).text
    assert "申請を受け付けました" in shown
    assert "手続きチェックリストに戻る" in shown

    nxt = client.get(links["jido_teate"]).text
    phone = 'id="f-phone" name="phone" type="text" maxlength="300" value="0422-45-1151"'
    assert phone in nxt  # not asked twice
    assert re.search(r'id="phone-prefilled">✔ この手続きで入力済み', nxt)
    assert re.search(r'id="name-prefilled">✔ 登録済みの情報から入力しました', nxt)
    english = client.get(links["jido_teate"] + "&lang=en").text
    assert "Entered earlier in this checklist" in english

    # Opened on its own (not from the checklist), the same value comes with the usual mark.
    alone = client.get("/forms/jido-teate-nintei").text
    assert phone in alone
    assert "この手続きで入力済み" not in alone
    # A mangled checklist is no checklist: the form still opens.
    broken = client.get("/forms/jido-teate-nintei", params={"navi": "event=wedding"})
    assert broken.status_code == 200
    assert "この手続きで入力済み" not in broken.text


def test_filed_items_show_their_status_on_the_checklist_and_my_page(client: TestClient) -> None:
    resident_with_profile(client)
    assert client.get(CHECKLIST).status_code == 200
    before = client.get(CHECKLIST).text
    assert "申請済み" not in before
    assert file_form(client).status_code == 303
    base = {
        "phone": "0422-45-1151", "my_number": VALID_MY_NUMBER, "child_name": "三鷹 太郎",
        "child_birth_date": "令和6年5月1日", "insurance": "kosei",
    }  # fmt: skip
    assert file_form(client, "jido-teate-nintei", base).status_code == 303
    after = client.get(CHECKLIST).text
    assert "申請済み" in item(after, "tennyu")
    assert "申請の状態: 受付" in item(after, "tennyu")
    assert "申請済み" in item(after, "jido_teate")
    assert "申請済み" not in item(after, "sodai_gomi")

    token = csrf_of(after)
    saved = client.post(
        "/my/checklists", data={**ANSWERS, "csrf_token": token}, follow_redirects=False
    )
    assert saved.status_code == 303
    my = client.get("/my").text
    checklists = my.split('id="checklists"', 1)[1].split('id="applications"', 1)[0]
    assert "申請済み" in checklists
    assert re.search(r'申請済み</span> <a href="/my/applications/\d+">転入届</a>: 受付', checklists)
    checklist_id = saved.headers["location"].split("checklist-")[1]
    kept = client.get(f"/my/checklists/{checklist_id}").text
    assert "申請の状態: 受付" in kept
    assert kept.count("オンラインで申請") == 2


def test_strangers_see_the_links_but_no_one_elses_status(client: TestClient, app: object) -> None:
    resident_with_profile(client)
    assert file_form(client).status_code == 303
    with TestClient(app) as stranger:  # type: ignore[arg-type]
        page = stranger.get(CHECKLIST).text
        assert set(apply_links(page)) == {"tennyu", "jido_teate"}
        assert "申請済み" not in page
        answer = stranger.get(apply_links(page)["tennyu"], follow_redirects=False)
        assert answer.status_code == 303
        assert "/residents/login" in answer.headers["location"]
