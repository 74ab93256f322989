"""The clinic desk in a real browser: Debian's chromium driven by Selenium, against the
desk served by waitress on 127.0.0.1 (port 0) and an SMTP server on loopback.

A nurse signs in, finds the handout, opens a page preview, emails the Spanish
edition (the message arrives with the right PDF), sees it in the record, is
refused a draft with the reason, uploads a CSV with one bad row; axe-core
finds no serious or critical accessibility violation on any page.

Set BOOKLET_DESK_SCREENSHOTS=DIR to also save the README's screenshots there.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium")
DRIVER = shutil.which("chromedriver")
if not (CHROMIUM and DRIVER):
    pytest.skip("Debian's chromium and chromium-driver are not installed (./run test "
                "installs them)", allow_module_level=True)
pytest.importorskip("selenium", reason="selenium (the test extra) is not installed")
pytest.importorskip("flask", reason="the desk extra (flask) is not installed")

from test_desk import PASSWORD, SLUG, mail_api, make_desk_project  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
AXE = REPO / ".cache" / "node_modules" / "axe-core" / "axe.min.js"
FAMILY = "familia.garcia@example.org"
SHOTS = os.environ.get("BOOKLET_DESK_SCREENSHOTS")


@pytest.fixture(scope="module")
def mailbox(smtp_server):
    """A plain SMTP server on loopback (conftest's shared one), for the whole module."""
    return smtp_server()


@pytest.fixture(scope="module")
def project(tmp_path_factory, mailbox) -> Path:
    """The fixture handout with Spanish approved (in this tmp copy only) and rebuilt."""
    from booklet.build import build_edition
    from booklet.core import Edition
    from booklet.manifest import record_editions
    from booklet.project import load_project
    from booklet.review import approve

    # Only what the browser looks at: Spanish is built after its approval, below.
    root = make_desk_project(tmp_path_factory.mktemp("desk-browser") / "knee",
                             editions=(("en", "a4"),))
    with (root / "booklet.toml").open("a", encoding="utf-8") as f:
        f.write(f'\n[mail]\nhost = "127.0.0.1"\nport = {mailbox.port}\nsecurity = "none"\n'
                "retries = 0\ntimeout_seconds = 10\n")
    project = load_project(root)
    approve(project, "es", "Dr Rivera")
    results = [build_edition(project, Edition("es", fmt), root / "dist")
               for fmt in ("a4", "screen")]
    record_editions(root / "dist", [r.manifest_entry() for r in results])
    return root


@pytest.fixture(scope="module")
def desk_url(project, tmp_path_factory):
    from waitress import create_server

    from booklet.desk import create_app
    from booklet.desk.users import add_user

    users = tmp_path_factory.mktemp("users") / "users.json"
    add_user(users, "Nurse Ana", PASSWORD)
    app = create_app([project], users, cache_dir=project.parent / "cache")
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()
    thread.join(10)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--lang=en-US",
                 "--window-size=1280,900",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=DRIVER))
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def nurse(browser, desk_url):
    """The browser, signed in as a nurse."""
    from selenium.webdriver.common.by import By

    browser.get(desk_url + "/")
    assert browser.current_url.endswith("/signin")
    browser.find_element(By.ID, "name").send_keys("Nurse Ana")
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "main button[type=submit]").click()
    wait_text(browser, "h1", "Library")
    return browser


def wait_text(driver, selector: str, text: str, limit: float = 120):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, limit).until(expected_conditions.text_to_be_present_in_element(
        (By.CSS_SELECTOR, selector), text))
    return driver.find_element(By.CSS_SELECTOR, selector).text


def shot(driver, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(Path(SHOTS) / f"desk-{name}.png"))


def axe_violations(driver) -> list[str]:
    """Serious and critical axe-core violations on the current page (WCAG 2.x A/AA rules)."""
    if not AXE.is_file():
        pytest.skip(f"axe-core is not installed in {AXE.parent} (./run test installs it)")
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a',"
        " 'wcag21aa', 'wcag22aa', 'best-practice']}}).then(r => done(r.violations))"
        ".catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e),"
        " nodes: []}]));")
    return [f"{v['id']} ({v['impact']}): {v['help']} at "
            f"{[n.get('target') for n in v['nodes']][:3]}"
            for v in result if v["impact"] in ("serious", "critical")]


def test_find_the_handout_and_open_a_preview(nurse, desk_url):
    from selenium.webdriver.common.by import By

    search = nurse.find_element(By.ID, "q")
    search.send_keys("surgery")
    nurse.find_element(By.CSS_SELECTOR, "form[role=search] button").click()
    wait_text(nurse, "#found", "1 handout")
    cover = nurse.find_element(By.CSS_SELECTOR, ".card img.cover")
    assert nurse.execute_script("return arguments[0].naturalWidth", cover) > 0
    shot(nurse, "library")
    nurse.find_element(By.LINK_TEXT, "Going home after surgery").click()
    wait_text(nurse, "h1", "Going home after surgery")
    spanish = nurse.find_elements(By.CSS_SELECTOR, "table.grid tbody tr")[1].text
    assert "approved" in spanish and "Approved by Dr Rivera" in spanish
    shot(nurse, "handout")
    nurse.find_element(By.CSS_SELECTOR, f"a[href='/h/{SLUG}/es/a4/preview']").click()
    wait_text(nurse, "h1", "Spanish, a4")
    page = nurse.find_element(By.CSS_SELECTOR, "img.page")
    assert nurse.execute_script("return arguments[0].complete && arguments[0].naturalWidth",
                                page) > 0
    assert not axe_violations(nurse)


def test_email_the_spanish_edition_and_see_it_in_the_record(nurse, desk_url, mailbox,
                                                            project):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    mail_api()
    nurse.get(f"{desk_url}/h/{SLUG}/email")
    nurse.find_element(By.ID, "email").send_keys(FAMILY)
    Select(nurse.find_element(By.ID, "language")).select_by_value("es")
    Select(nurse.find_element(By.ID, "format")).select_by_value("screen")
    nurse.find_element(By.ID, "name").send_keys("Familia García")
    shot(nurse, "email")
    assert not axe_violations(nurse)
    nurse.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    attachment = wait_text(nurse, "#attachment", f"{SLUG}_es_screen.pdf")
    assert attachment.startswith(f"{SLUG}_es_screen.pdf")
    assert not axe_violations(nurse)
    nurse.find_element(By.XPATH, "//button[normalize-space()='Send the email']").click()
    wait_text(nurse, "#job-summary", "1 of 1 finished")
    assert "sent" in nurse.find_element(By.CSS_SELECTOR, "tr[data-step='0']").text
    assert not axe_violations(nurse)

    (message,) = mailbox.to(FAMILY)
    (part,) = [p for p in message.iter_attachments()
               if p.get_content_type() == "application/pdf"]
    assert part.get_filename() == f"{SLUG}_es_screen.pdf"
    assert part.get_content() == (project / "dist" / f"{SLUG}_es_screen.pdf").read_bytes()

    nurse.find_element(By.LINK_TEXT, "Send record").click()
    row = wait_text(nurse, "table.rows tbody", FAMILY)
    assert "es" in row.split() and "Nurse Ana" in row
    assert not axe_violations(nurse)


def test_a_draft_is_refused_with_the_reason(nurse, desk_url):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    mail_api()
    nurse.get(f"{desk_url}/h/{SLUG}/email")
    nurse.find_element(By.ID, "email").send_keys("family@example.org")
    Select(nurse.find_element(By.ID, "language")).select_by_value("en")
    nurse.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    refused = wait_text(nurse, "#refused", "cannot be emailed")
    assert "draft" in refused and "booklet approve --lang en" in refused
    assert not axe_violations(nurse)


def test_csv_with_one_bad_row(nurse, desk_url, mailbox, tmp_path):
    from selenium.webdriver.common.by import By

    mail_api()
    day = tmp_path / "families.csv"
    day.write_text("email,language,name\nuno@example.org,es,Uno\nnot-an-address,es,Dos\n"
                   "tres@example.org,es,Tres\n", encoding="utf-8")
    nurse.get(f"{desk_url}/h/{SLUG}/batch")
    nurse.find_element(By.ID, "csv").send_keys(str(day))
    nurse.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    wait_text(nurse, "main", "2 of 3 rows are ready")
    bad = nurse.find_elements(By.CSS_SELECTOR, "tr.row-error")
    assert len(bad) == 1 and bad[0].text.startswith("3 ")
    assert not axe_violations(nurse)
    nurse.find_element(By.XPATH, "//button[normalize-space()='Send 2 emails']").click()
    wait_text(nurse, "#job-summary", "2 of 2 finished")
    assert len(mailbox.to("uno@example.org")) == 1
    assert len(mailbox.to("tres@example.org")) == 1
    assert not mailbox.to("not-an-address")


def test_sign_in_error_and_record_pages_pass_axe(browser, desk_url, nurse):
    for path in ("/signin", "/h/no-such-handout", "/record?since=yesterday",
                 f"/h/{SLUG}/batch"):
        browser.get(desk_url + path)
        assert not axe_violations(browser), path


def test_keyboard_alone_finds_and_opens_a_handout(nurse, desk_url):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    def tab() -> None:
        ActionChains(nurse).send_keys(Keys.TAB).perform()

    nurse.get(desk_url + "/")
    tab()
    assert nurse.switch_to.active_element.text == "Skip to the main content"
    nurse.switch_to.active_element.send_keys(Keys.ENTER)
    tab()
    search = nurse.switch_to.active_element
    assert search.get_attribute("id") == "q"
    outline = nurse.execute_script("return getComputedStyle(arguments[0]).outlineStyle", search)
    assert outline != "none"  # focus is visible
    search.send_keys("surgery", Keys.ENTER)
    wait_text(nurse, "#found", "1 handout")
    for _ in range(40):
        tab()
        if nurse.switch_to.active_element.text == "Going home after surgery":
            break
    else:
        pytest.fail("the handout's link cannot be reached with the Tab key")
    nurse.switch_to.active_element.send_keys(Keys.ENTER)
    wait_text(nurse, "h1", "Going home after surgery")


def test_page_language_switches_to_spanish(nurse, desk_url):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    nurse.get(desk_url + "/")
    Select(nurse.find_element(By.ID, "page-language")).select_by_value("es")
    nurse.find_element(By.XPATH, "//button[normalize-space()='Change']").click()
    wait_text(nurse, "h1", "Biblioteca")
    assert nurse.find_element(By.TAG_NAME, "html").get_attribute("lang") == "es"
    assert not axe_violations(nurse)
    Select(nurse.find_element(By.ID, "page-language")).select_by_value("en")
    nurse.find_element(By.XPATH, "//button[normalize-space()='Cambiar']").click()
    wait_text(nurse, "h1", "Library")


def test_printing_the_desk_prints_only_a_note(nurse, desk_url):
    nurse.get(f"{desk_url}/h/{SLUG}")
    nurse.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        shown = nurse.execute_script(
            "return [...document.body.children].filter("
            "e => getComputedStyle(e).display !== 'none').map(e => e.className)")
    finally:
        nurse.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    assert shown == ["print-note"]
