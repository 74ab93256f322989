"""booklet send: real messages to a real SMTP server (aiosmtpd, STARTTLS, AUTH) on loopback.

The fixture project (tests/projects/mail-handout) is approved in Spanish
inside a temporary copy and its es screen edition built once for the module;
each test works on its own copy of that built project.
"""

from __future__ import annotations

import email
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from email import policy
from pathlib import Path

import pytest
from click.testing import CliRunner

from booklet.cli import main
from booklet.core import BookletError
from booklet.mail import (
    BatchSummary,
    Recipient,
    check_sendable,
    forget_address,
    read_recipients_csv,
    send_batch,
    send_report,
)
from booklet.project import load_mail_settings, load_project

from conftest import Mailbox

PROJECTS = Path(__file__).resolve().parent / "projects"
PASSWORD = "s3cret-Horse-battery-9431"
USER = "clinic-relay"


# ---------------------------------------------------------------------------
# The built project
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """The fixture handout, Spanish approved in this copy, es screen built once."""
    from booklet.build import build_all
    from booklet.review import approve

    root = tmp_path_factory.mktemp("mail") / "handout"
    shutil.copytree(PROJECTS / "mail-handout", root)
    approve(load_project(root), "es", "Dr. Test Reviewer")
    build_all(load_project(root), ["es"], ["screen"], root / "dist", jobs=1)
    return root


@pytest.fixture
def handout(built: Path, tmp_path: Path) -> Path:
    """A private copy of the built, approved project."""
    root = tmp_path / "handout"
    shutil.copytree(built, root)
    return root


def manifest_sha(root: Path) -> str:
    data = json.loads((root / "dist" / "manifest.json").read_text())
    return data["editions"]["cast_es_screen.pdf"]["sha256"]


def add_mail(root: Path, table: str) -> None:
    with (root / "booklet.toml").open("a", encoding="utf-8") as f:
        f.write("\n[mail]\n" + table)


# ---------------------------------------------------------------------------
# A real SMTP server: aiosmtpd with STARTTLS (trustme) and AUTH, on 127.0.0.1:0
# ---------------------------------------------------------------------------


def _authenticate(server, session, envelope, mechanism, auth_data):
    from aiosmtpd.smtp import AuthResult, LoginPassword

    ok = isinstance(auth_data, LoginPassword) and auth_data.login == USER.encode() \
        and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)  # handled=False: the server replies 535


@pytest.fixture(scope="module")
def ca():
    import trustme

    return trustme.CA()


@pytest.fixture
def relay(ca, smtp_server):
    """The clinic's relay: STARTTLS required, then AUTH (conftest's shared server)."""
    mailbox = smtp_server(cert=ca.issue_cert("127.0.0.1"), authenticator=_authenticate)
    yield mailbox
    mailbox.server.close()


@pytest.fixture
def smtp_project(handout: Path, relay: Mailbox, ca, monkeypatch) -> Path:
    ca.cert_pem.write_to_path(str(handout / "relay-ca.pem"))
    add_mail(handout, f'host = "127.0.0.1"\nport = {relay.port}\nsecurity = "starttls"\n'
             f'user = "{USER}"\nca_file = "relay-ca.pem"\n'
             'reply_to = "care-team@clinic.example.org"\n'
             'clinic_addresses = ["desk@clinic.example.org"]\n'
             "retries = 2\nretry_seconds = 0.05\ntimeout_seconds = 10\n")
    monkeypatch.setenv("BOOKLET_SMTP_PASSWORD", PASSWORD)
    return handout


def spanish(*addresses: str) -> list[Recipient]:
    return [Recipient(a, "es", f"Family {i}", "screen", i + 2)
            for i, a in enumerate(addresses)]


# ---------------------------------------------------------------------------
# Over SMTP
# ---------------------------------------------------------------------------


def test_a_batch_arrives_complete(smtp_project: Path, relay: Mailbox):
    addresses = [f"family{i}@example.org" for i in range(3)]
    summary = send_batch(load_project(smtp_project), spanish(*addresses), by="Nurse Ana",
                         batch_id="day-1")
    assert [r.status for r in summary.rows] == ["sent"] * 3
    for address in addresses:
        (msg,) = relay.to(address)
        assert msg["Content-Language"] == "es"
        assert msg["From"].addresses[0].addr_spec == "desk@clinic.example.org"
        assert msg["Reply-To"].addresses[0].addr_spec == "care-team@clinic.example.org"
        assert msg["Message-ID"] and msg["Date"]
        assert msg["Subject"] == "Su hoja informativa de Test Fracture Clinic"
        text = msg.get_body(("plain",)).get_content()
        assert "«El cuidado de su yeso»" in text and "Family" in text
        assert "+1 555 0142" in text
        assert 'lang="es"' in msg.get_body(("html",)).get_content()
        (pdf,) = list(msg.iter_attachments())
        assert pdf.get_content_type() == "application/pdf"
        assert pdf.get_filename() == "cast_es_screen.pdf"
        assert hashlib.sha256(pdf.get_content()).hexdigest() == manifest_sha(smtp_project)
    record = send_report(load_project(smtp_project))
    assert {r["email"] for r in record} == set(addresses)
    assert {r["by"] for r in record} == {"Nurse Ana"}
    assert {r["pdf_sha256"] for r in record} == {manifest_sha(smtp_project)}
    assert {r["message_id"] for r in record} == {relay.to(a)[0]["Message-ID"]
                                                 for a in addresses}

    again = send_batch(load_project(smtp_project), spanish(*addresses), by="Nurse Ana",
                       batch_id="day-1")
    assert [r.status for r in again.rows] == ["skipped"] * 3
    assert len(relay.messages) == 3


def test_refused_for_good_and_temporarily(smtp_project: Path, relay: Mailbox):
    relay.rcpt_replies["gone@example.org"] = ["550 5.1.1 No such user"]
    relay.rcpt_replies["busy@example.org"] = ["451 4.3.0 Try again later"]
    summary = send_batch(load_project(smtp_project),
                         spanish("gone@example.org", "busy@example.org", "ok@example.org"),
                         by="x", batch_id="day-2")
    assert isinstance(summary, BatchSummary)
    status = {row.email: row for row in summary.rows}
    assert status["gone@example.org"].status == "failed"
    assert status["gone@example.org"].reply.startswith("550")
    assert status["busy@example.org"].status == "sent"
    assert status["ok@example.org"].status == "sent"
    assert len(relay.to("busy@example.org")) == 1
    assert relay.to("gone@example.org") == []
    attempts = {r["email"]: r["attempts"] for r in send_report(load_project(smtp_project))}
    assert attempts["busy@example.org"] == 2
    assert attempts["ok@example.org"] == 1


def test_killed_mid_batch_then_run_again_sends_each_once(smtp_project: Path,
                                                         relay: Mailbox, tmp_path: Path):
    addresses = [f"p{i}@example.org" for i in range(5)]
    day = tmp_path / "day.csv"
    day.write_text("name,email,language\n" + "".join(
        f"Family {i},{a},es\n" for i, a in enumerate(addresses)), encoding="utf-8")
    process: dict = {}

    def kill_on_third(envelope) -> None:
        if addresses[2] in envelope.rcpt_tos:
            deadline = time.monotonic() + 20
            while "proc" not in process and time.monotonic() < deadline:
                time.sleep(0.01)
            os.kill(process["proc"].pid, signal.SIGKILL)

    relay.on_data = kill_on_third
    command = [sys.executable, "-m", "booklet.cli", "send", str(smtp_project), "--csv",
               str(day), "--by", "Nurse Ana"]
    env = {**os.environ, "BOOKLET_SMTP_PASSWORD": PASSWORD}
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process["proc"] = proc
    proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL
    relay.on_data = None

    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 1  # one outcome is unknown: a person decides
    for address in addresses:
        assert len(relay.to(address)) == 1, address
    assert "unknown" in again.stdout and addresses[2] in again.stdout
    statuses = {r["email"]: r["status"] for r in send_report(load_project(smtp_project))}
    assert statuses == {addresses[0]: "sent", addresses[1]: "sent", addresses[2]: "unknown",
                        addresses[3]: "sent", addresses[4]: "sent"}

    # A person finds the message in the relay's log and records it sent: done, nothing resent.
    (message_id,) = [r["message_id"] for r in send_report(load_project(smtp_project))
                     if r["status"] == "unknown"]
    assert message_id == relay.to(addresses[2])[0]["Message-ID"]
    runner = CliRunner(env={"BOOKLET_SMTP_PASSWORD": PASSWORD})
    decided = runner.invoke(main, ["send", str(smtp_project), "--resolve", message_id, "sent"])
    assert decided.exit_code == 0, decided.output
    third = runner.invoke(main, ["send", str(smtp_project), "--csv", str(day)])
    assert third.exit_code == 0, third.output
    assert "0 sent, 0 failed, 5 skipped, 0 unknown" in third.output
    assert all(len(relay.to(address)) == 1 for address in addresses)


def test_a_certificate_for_another_host_is_refused(handout: Path, ca, monkeypatch,
                                                    smtp_server):
    mailbox = smtp_server(cert=ca.issue_cert("mail.elsewhere.example"),
                          authenticator=_authenticate)
    server = mailbox.server
    try:
        ca.cert_pem.write_to_path(str(handout / "relay-ca.pem"))
        add_mail(handout, f'host = "127.0.0.1"\nport = {server.port}\nuser = "{USER}"\n'
                 'ca_file = "relay-ca.pem"\n')
        monkeypatch.setenv("BOOKLET_SMTP_PASSWORD", PASSWORD)
        with pytest.raises(BookletError, match="certificate refused"):
            send_batch(load_project(handout), spanish("a@example.org"), by="x")
        assert mailbox.messages == []
    finally:
        server.close()


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_implicit_tls_with_a_custom_ca(handout: Path, ca, monkeypatch, smtp_server):
    mailbox = smtp_server(cert=ca.issue_cert("127.0.0.1"), implicit_tls=True,
                          authenticator=_authenticate)
    server = mailbox.server
    try:
        ca.cert_pem.write_to_path(str(handout / "relay-ca.pem"))
        add_mail(handout, f'host = "127.0.0.1"\nport = {server.port}\nsecurity = "tls"\n'
                 f'user = "{USER}"\nca_file = "relay-ca.pem"\n')
        monkeypatch.setenv("BOOKLET_SMTP_PASSWORD", PASSWORD)
        summary = send_batch(load_project(handout), spanish("a@example.org"), by="x")
        assert summary.rows[0].status == "sent", summary.rows[0]
        assert len(mailbox.to("a@example.org")) == 1
    finally:
        server.close()


def test_the_password_is_in_no_log_and_no_output(smtp_project: Path, relay: Mailbox,
                                                 tmp_path: Path, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    day = tmp_path / "day.csv"
    day.write_text("email,language\nx@example.org,es\nnot-an-address,es\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["send", str(smtp_project), "--csv", str(day)],
                                env={"BOOKLET_SMTP_PASSWORD": PASSWORD})
    assert "1 sent" in result.output
    report = CliRunner().invoke(main, ["send", str(smtp_project), "--report", "--csv"])
    assert "x@example.org" in report.output
    ours = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("mail"))
    written = b"".join(p.read_bytes() for p in (smtp_project / "mail").rglob("*")
                       if p.is_file())
    for where in (result.output, report.output, ours, written.decode("latin-1"),
                  relay.messages[0][2].decode("latin-1")):
        assert PASSWORD not in where


def test_a_draft_is_refused_and_a_test_send_goes_to_the_clinic_only(smtp_project: Path,
                                                                    relay: Mailbox):
    (smtp_project / "reviews.toml").unlink()  # the Spanish approval withdrawn
    project = load_project(smtp_project)
    with pytest.raises(BookletError, match=r"es screen: a draft"):
        check_sendable(project, Recipient("family@example.org", "es"))
    summary = send_batch(project, spanish("family@example.org"), by="x")
    assert summary.rows[0].status == "skipped" and "draft" in summary.rows[0].reason
    family = send_batch(project, spanish("family@example.org"), by="x", allow_draft=True)
    assert "clinic_addresses" in family.rows[0].reason
    clinic = send_batch(project, [Recipient("desk@clinic.example.org", "es")], by="x",
                        allow_draft=True)
    assert clinic.rows[0].status == "sent"
    assert relay.to("family@example.org") == []
    (msg,) = relay.to("desk@clinic.example.org")
    assert msg["Subject"].startswith("DRAFT")
    # The approved PDF was rebuilt as a draft first: the test send carries the DRAFT mark.
    entry = json.loads((smtp_project / "dist" / "manifest.json").read_text())[
        "editions"]["cast_es_screen.pdf"]
    (pdf,) = list(msg.iter_attachments())
    assert entry["approved"] is False
    assert hashlib.sha256(pdf.get_content()).hexdigest() == entry["sha256"]


# ---------------------------------------------------------------------------
# The embedded default: an outbox of .eml files
# ---------------------------------------------------------------------------


def test_the_outbox_default_writes_eml_files_with_the_pdf(handout: Path):
    project = load_project(handout)
    assert load_mail_settings(project).transport == "outbox"
    summary = send_batch(project, spanish("ana@example.org", "luis@exämple.org"), by="x")
    assert [r.status for r in summary.rows] == ["sent", "sent"]
    files = sorted((handout / "mail" / "outbox").glob("*.eml"))
    assert len(files) == 2
    recipients = set()
    for path in files:
        with path.open("rb") as f:
            msg = email.message_from_binary_file(f, policy=policy.default)
        recipients |= {a.addr_spec for a in msg["To"].addresses}
        (pdf,) = list(msg.iter_attachments())
        assert pdf.get_content_type() == "application/pdf"
        assert hashlib.sha256(pdf.get_content()).hexdigest() == manifest_sha(handout)
    assert recipients == {"ana@example.org", "luis@xn--exmple-cua.org"}
    log = handout / "mail" / "sendlog.sqlite3"
    assert log.stat().st_mode & 0o777 == 0o600
    assert (handout / "mail").stat().st_mode & 0o777 == 0o700
    assert (handout / "mail" / ".gitignore").read_text().endswith("*\n")
    import sqlite3

    with sqlite3.connect(log) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"

    # A family asks to be forgotten: the address goes, a hash stays, a resend is recognised.
    assert forget_address(project, "ana@example.org") == 1
    assert "ana@example.org" not in {r["email"] for r in send_report(project)}
    assert b"ana@example.org" not in log.read_bytes()
    assert len(list((handout / "mail" / "outbox").glob("*.eml"))) == 1
    again = send_batch(project, spanish("ana@example.org", "luis@exämple.org"), by="x",
                       batch_id=summary.batch_id)
    assert [r.status for r in again.rows] == ["skipped", "skipped"]


def test_the_pdf_must_match_the_manifest(handout: Path):
    pdf = handout / "dist" / "cast_es_screen.pdf"
    pdf.write_bytes(pdf.read_bytes() + b"\n% changed after the build\n")
    with pytest.raises(BookletError, match="does not match its sha256"):
        check_sendable(load_project(handout), Recipient("a@example.org", "es"))


def test_overdue_review_and_size_limit_are_refused(handout: Path):
    text = (handout / "booklet.toml").read_text(encoding="utf-8")
    (handout / "booklet.toml").write_text(
        text.replace("published = 2026-01-15", "published = 2000-01-15")
        .replace("next_review = 2036-01-15", "next_review = 2000-06-01"), encoding="utf-8")
    # The dates print on the handout, so they are in the fingerprint: approve them again.
    from booklet.review import approve

    approve(load_project(handout), "es", "Dr. Test Reviewer")
    with pytest.raises(BookletError, match="es screen: the review date"):
        check_sendable(load_project(handout), Recipient("a@example.org", "es"))
    (handout / "booklet.toml").write_text(text, encoding="utf-8")
    approve(load_project(handout), "es", "Dr. Test Reviewer")
    add_mail(handout, "max_attachment_mb = 0.01\n")
    with pytest.raises(BookletError, match="over max_attachment_mb"):
        check_sendable(load_project(handout), Recipient("a@example.org", "es"))


# ---------------------------------------------------------------------------
# Bad input: each row gets its own message with its line, the rest goes on
# ---------------------------------------------------------------------------


def test_bad_rows_are_named_by_line_and_the_rest_goes_on(handout: Path):
    data = (b"email,language,name\n"
            b"good@example.org,es,Ana\n"
            b"not-an-address,es,Bob\n"
            b'"cr@example.org",es,"Evil\r\nBcc: x@example.org"\n'
            b"good@example.org,es,Ana again\n"
            b"fr@example.org,fr,Claire\n")
    recipients, problems = read_recipients_csv(data, "day.csv")
    assert [r.email for r in recipients] == ["good@example.org", "fr@example.org"]
    where = {p.location: p for p in problems}
    assert set(where) == {"day.csv:3", "day.csv:4", "day.csv:6"}
    assert "control character" in where["day.csv:4"].message
    assert "already on line 2" in where["day.csv:6"].message
    summary = send_batch(load_project(handout), recipients, by="x")
    assert [r.status for r in summary.rows] == ["sent", "skipped"]
    assert "'fr'" in summary.rows[1].reason and summary.rows[1].line == 7

    _, missing = read_recipients_csv(b"address,lang\nx@example.org,es\n", "a.csv")
    assert missing[0].location == "a.csv:1" and "email, language" in missing[0].message
    _, encoding = read_recipients_csv(b"email,language\nok@example.org,es\n"
                                      + "josé@example.org,es\n".encode("latin-1"), "b.csv")
    assert encoding[0].location == "b.csv:3" and "UTF-8" in encoding[0].message


def test_mail_settings_refuse_what_is_unsafe(handout: Path, tmp_path: Path):
    add_mail(handout, 'host = "relay.example.org"\nsecurity = "none"\npassword = "x"\n')
    with pytest.raises(BookletError) as error:
        load_mail_settings(load_project(handout))
    assert "mail.password" in str(error.value) and "plain text" in str(error.value)


def test_a_password_file_others_can_read_is_refused(handout: Path, relay: Mailbox, ca,
                                                     monkeypatch):
    monkeypatch.delenv("BOOKLET_SMTP_PASSWORD", raising=False)
    secret = handout / "relay-password"
    secret.write_text(PASSWORD + "\n")
    secret.chmod(0o644)
    ca.cert_pem.write_to_path(str(handout / "relay-ca.pem"))
    add_mail(handout, f'host = "127.0.0.1"\nport = {relay.port}\nuser = "{USER}"\n'
             'ca_file = "relay-ca.pem"\npassword_file = "relay-password"\n')
    with pytest.raises(BookletError, match="chmod 600") as error:
        send_batch(load_project(handout), spanish("a@example.org"), by="x")
    assert PASSWORD not in str(error.value)
    secret.chmod(0o600)
    summary = send_batch(load_project(handout), spanish("a@example.org"), by="x")
    assert summary.rows[0].status == "sent"


def test_cli_dry_run_writes_nothing_and_report_prints_the_record(handout: Path):
    runner = CliRunner()
    dry = runner.invoke(main, ["send", str(handout), "--to", "ana@example.org", "--lang",
                               "es", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would send cast_es_screen.pdf" in dry.output
    assert not (handout / "mail").exists()
    sent = runner.invoke(main, ["send", str(handout), "--to", "ana@example.org", "--lang",
                                "es", "--name", "Ana", "--by", "Nurse Ana"])
    assert sent.exit_code == 0, sent.output
    report = runner.invoke(main, ["send", str(handout), "--report", "--since", "2000-01-01"])
    assert "ana@example.org" in report.output and "Nurse Ana" in report.output
    bad = runner.invoke(main, ["send", str(handout), "--to", "ana@example.org", "--lang", "de"])
    assert bad.exit_code == 1 and "'de'" in bad.output


def test_an_unreachable_relay_is_retried_then_recorded_failed_and_resumed(handout: Path):
    import socket

    with socket.socket() as probe:  # a port nobody listens on any more
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    add_mail(handout, f'host = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
             "retries = 1\nretry_seconds = 0.01\n")
    summary = send_batch(load_project(handout), spanish("a@example.org", "b@example.org"),
                         by="x", batch_id="down")
    assert [r.status for r in summary.rows] == ["failed", "failed"]
    assert "cannot reach" in summary.rows[0].reply
    attempts = {r["email"]: r["attempts"] for r in send_report(load_project(handout))}
    assert attempts == {"a@example.org": 2, "b@example.org": 2}

    # A temporary failure is tried again when the batch is run again.
    dry = send_batch(load_project(handout), spanish("a@example.org"), by="x",
                     batch_id="down", dry_run=True)
    assert dry.rows[0].reason.startswith("dry run: would send")


def test_international_addresses_go_out_encoded(smtp_project: Path, relay: Mailbox):
    summary = send_batch(load_project(smtp_project),
                         spanish("josé@exämple.org", "ana@bücher.example"), by="x")
    assert [r.status for r in summary.rows] == ["sent", "sent"]
    assert len(relay.to("josé@xn--exmple-cua.org")) == 1  # SMTPUTF8 local part, IDNA domain
    (raw,) = [content for _, rcpts, content in relay.messages if "josé" in rcpts[0]]
    assert "To: Family 0 <josé@xn--exmple-cua.org>".encode() in raw
    assert len(relay.to("ana@xn--bcher-kva.example")) == 1


def test_email_templates_fill_placeholders_as_the_handout_does(handout: Path):
    """One safe way to fill a template: {name} only, a format spec is refused, not run."""
    from booklet.mail import render_email

    override = handout / "templates" / "email"
    override.mkdir(parents=True)
    for name in ("body.txt", "body.html"):
        (override / name).write_text("{{ name }}\n")
    subject = override / "subject.txt"
    subject.write_text('{{ _("For {name}").format(name=name) }}\n')
    assert render_email(load_project(handout), "es", {"name": "Ana"})[0] == "For Ana"
    subject.write_text('{{ _("For {name:>99999999}").format(name=name) }}\n')
    with pytest.raises(BookletError, match=r"template string 'For \{name:>99999999\}': only "
                       "plain placeholders"):
        render_email(load_project(handout), "es", {"name": "Ana"})
    subject.write_text('{{ "{0}".format(name) }}\n')
    with pytest.raises(BookletError, match=r"takes names only"):
        render_email(load_project(handout), "es", {"name": "Ana"})


def test_email_strings_are_extracted_for_translation(handout: Path):
    from booklet import i18n

    found = {segment.file: segment.msgid for segment in i18n.segments(load_project(handout))
             if segment.file.startswith("templates/email/")}
    assert found["templates/email/subject.txt"] == "Your handout from {clinic}"
    assert {"templates/email/body.txt", "templates/email/body.html"} <= set(found)


def test_two_runs_of_one_batch_never_overlap(handout: Path):
    from booklet.mail import _lock_batch

    held = _lock_batch(load_project(handout), "day-9")
    try:
        with pytest.raises(BookletError, match="another booklet send is sending this batch"):
            send_batch(load_project(handout), spanish("a@example.org"), by="x",
                       batch_id="day-9")
        other = send_batch(load_project(handout), spanish("a@example.org"), by="x",
                           batch_id="day-10")
        assert other.rows[0].status == "sent"
    finally:
        held.close()


def test_an_unknown_outcome_decided_not_sent_goes_out_on_the_next_run(handout: Path):
    import sqlite3

    from booklet.mail import resolve_unknown

    project = load_project(handout)
    first = send_batch(project, spanish("a@example.org"), by="x", batch_id="day-5")
    with sqlite3.connect(handout / "mail" / "sendlog.sqlite3") as conn:  # as after a crash
        conn.execute("UPDATE sends SET status = 'unknown', transport = 'smtp'")
    assert send_batch(project, spanish("a@example.org"), by="x",
                      batch_id="day-5").rows[0].status == "unknown"
    with pytest.raises(BookletError, match="no message with an unknown outcome"):
        resolve_unknown(project, "<nothing@example.org>", delivered=False)
    assert resolve_unknown(project, first.rows[0].message_id, delivered=False) == 1
    again = send_batch(project, spanish("a@example.org"), by="x", batch_id="day-5")
    assert again.rows[0].status == "sent"
    assert again.rows[0].message_id == first.rows[0].message_id


def test_a_wrong_password_stops_the_batch_without_showing_it(smtp_project: Path,
                                                             relay: Mailbox, monkeypatch):
    monkeypatch.setenv("BOOKLET_SMTP_PASSWORD", "wrong-" + PASSWORD)
    with pytest.raises(BookletError, match="login refused for user 'clinic-relay'") as error:
        send_batch(load_project(smtp_project), spanish("a@example.org"), by="x")
    assert PASSWORD not in str(error.value)
    assert relay.messages == []
    # Nothing was handed over: the corrected run sends it.
    monkeypatch.setenv("BOOKLET_SMTP_PASSWORD", PASSWORD)
    summary = send_batch(load_project(smtp_project), spanish("a@example.org"), by="x")
    assert summary.rows[0].status == "sent"
