"""Notifier adapters against real parts (espeak-ng, an HTTP gateway on loopback) and the
lifecycle tables and policy matrix of the expert domain."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from sunlit.experts.notify import (
    CompositeNotifier,
    HttpSmsNotifier,
    Invitation,
    RecordingNotifier,
    VoiceNotifier,
    from_settings,
    invitation_text,
)
from sunlit.experts.policies import POLICY
from sunlit.experts.states import (
    ASSIGNMENT_LIFECYCLE,
    DRAW_LIFECYCLE,
    AssignmentAction,
    AssignmentStatus,
    DrawAction,
    DrawStatus,
)
from sunlit.kernel import clock as kclock
from sunlit.kernel.authz import Actor, Role, system_actor
from sunlit.kernel.errors import IllegalTransition


def _invitation() -> Invitation:
    start = kclock.now() + dt.timedelta(days=2)
    respond_by = kclock.now() + dt.timedelta(minutes=30)
    text = invitation_text("苏州市公共资源交易中心", start, "3号评标室", respond_by)
    return Invitation("ref0123456789abcdef", "13700000001", "张教授", text, respond_by)


def test_call_script_names_time_and_place_only() -> None:
    inv = _invitation()
    assert "评标时间2026年11月25日09时30分" in inv.text
    assert "3号评标室" in inv.text and "回复短信：1 确认参加，2 不能参加" in inv.text


@pytest.mark.skipif(
    shutil.which("espeak-ng") is None and os.environ.get("CI") != "true",
    reason="espeak-ng not installed (CI must have it: scripts/test installs it)",
)
def test_voice_adapter_renders_a_wav_with_espeak_ng(tmp_path: Path) -> None:
    notifier = VoiceNotifier(tmp_path / "voice")
    [delivery] = notifier.send(_invitation())
    assert delivery.delivered, delivery.error
    data = Path(delivery.artifact).read_bytes()
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    assert len(data) > 50_000  # several seconds of speech, not an empty file
    broken = VoiceNotifier(tmp_path / "voice", espeak="/nonexistent/espeak-ng")
    [failed] = broken.send(_invitation())
    assert not failed.delivered and "espeak-ng" in failed.error


class _Gateway(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[dict[str, Any], str]]] = []
    status = 200

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Gateway.received.append((json.loads(body), self.headers.get("Authorization", "")))
        self.send_response(_Gateway.status)
        self.send_header("X-Message-Id", "msg-1")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: Any) -> None:
        pass


def test_sms_adapter_posts_to_a_real_gateway_on_loopback() -> None:
    server = HTTPServer(("127.0.0.1", 0), _Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/sms"
        _Gateway.received.clear()
        [d] = HttpSmsNotifier(url, token="t0ken").send(_invitation())
        assert d.delivered and d.artifact == "msg-1"
        body, auth = _Gateway.received[0]
        assert body["mobile"] == "13700000001" and body["reference"] == "ref0123456789abcdef"
        assert "评标时间" in body["text"] and auth == "Bearer t0ken"
        _Gateway.status = 503
        [d] = HttpSmsNotifier(url).send(_invitation())
        assert not d.delivered and d.error.startswith("HTTP 503")
    finally:
        _Gateway.status = 200
        server.shutdown()
        server.server_close()
    [d] = HttpSmsNotifier(url, timeout=2).send(_invitation())  # nobody listening any more
    assert not d.delivered and d.error


def test_from_settings_builds_the_configured_chain(tmp_path: Path) -> None:
    assert isinstance(
        from_settings("recording", voice_dir=tmp_path, espeak="e", sms_url="", sms_token=""),
        RecordingNotifier,
    )
    chain = from_settings(
        "voice+sms", voice_dir=tmp_path, espeak="e", sms_url="http://x", sms_token=""
    )
    assert isinstance(chain, CompositeNotifier) and len(chain.notifiers) == 2
    with pytest.raises(ValueError, match="SMS_GATEWAY_URL"):
        from_settings("sms", voice_dir=tmp_path, espeak="e", sms_url="", sms_token="")
    with pytest.raises(ValueError, match="unknown"):
        from_settings("fax", voice_dir=tmp_path, espeak="e", sms_url="", sms_token="")


DRAW_ALLOWED = {
    (DrawStatus.REQUESTED, DrawAction.AVOID): DrawStatus.REQUESTED,
    (DrawStatus.REQUESTED, DrawAction.FIX): DrawStatus.FIXED,
    (DrawStatus.REQUESTED, DrawAction.CANCEL): DrawStatus.CANCELLED,
    (DrawStatus.FIXED, DrawAction.SUPERVISE): DrawStatus.SUPERVISED,
    (DrawStatus.FIXED, DrawAction.CANCEL): DrawStatus.CANCELLED,
    (DrawStatus.SUPERVISED, DrawAction.DRAW): DrawStatus.NOTIFYING,
    (DrawStatus.SUPERVISED, DrawAction.CANCEL): DrawStatus.CANCELLED,
    (DrawStatus.NOTIFYING, DrawAction.ANSWER): DrawStatus.NOTIFYING,
    (DrawStatus.NOTIFYING, DrawAction.SHORTFALL): DrawStatus.SHORT,
    (DrawStatus.NOTIFYING, DrawAction.COMPLETE): DrawStatus.CONFIRMED,
    (DrawStatus.SHORT, DrawAction.ANSWER): DrawStatus.SHORT,
    (DrawStatus.SHORT, DrawAction.SUPPLEMENT): DrawStatus.SHORT,
    (DrawStatus.SHORT, DrawAction.COMPLETE): DrawStatus.CONFIRMED,
    (DrawStatus.CONFIRMED, DrawAction.DISCLOSE): DrawStatus.DISCLOSED,
}


@pytest.mark.parametrize("state", list(DrawStatus))
@pytest.mark.parametrize("action", list(DrawAction))
def test_draw_lifecycle_table(state: DrawStatus, action: DrawAction) -> None:
    expected = DRAW_ALLOWED.get((state, action))
    if expected is None:
        with pytest.raises(IllegalTransition):
            DRAW_LIFECYCLE.apply(state, action)
    else:
        assert DRAW_LIFECYCLE.apply(state, action) == expected


ASSIGNMENT_ALLOWED = {
    (AssignmentStatus.STANDBY, AssignmentAction.CALL): AssignmentStatus.NOTIFIED,
    (AssignmentStatus.NOTIFIED, AssignmentAction.CONFIRM): AssignmentStatus.CONFIRMED,
    (AssignmentStatus.NOTIFIED, AssignmentAction.DECLINE): AssignmentStatus.DECLINED,
    (AssignmentStatus.NOTIFIED, AssignmentAction.TIME_OUT): AssignmentStatus.NO_ANSWER,
}


@pytest.mark.parametrize("state", list(AssignmentStatus))
@pytest.mark.parametrize("action", list(AssignmentAction))
def test_assignment_lifecycle_table(state: AssignmentStatus, action: AssignmentAction) -> None:
    expected = ASSIGNMENT_ALLOWED.get((state, action))
    if expected is None:
        with pytest.raises(IllegalTransition):
            ASSIGNMENT_LIFECYCLE.apply(state, action)
    else:
        assert ASSIGNMENT_LIFECYCLE.apply(state, action) == expected


class _Tender:
    tenderer_org_id = "org-t"
    agency_org_id = "org-a"


def _actor(role: Role, org: str = "org-x", user: str = "u1") -> Actor:
    return Actor(user_id=user, org_id=org, roles=frozenset({role}), auth_method="certificate")


class _Expert:
    user_id = "u1"


ROLE_MATRIX = {
    "experts.pool.manage": {Role.CENTER_STAFF},
    "experts.pool.view": {Role.CENTER_STAFF, Role.SUPERVISOR},
    "experts.credit.record": {Role.CENTER_STAFF, Role.SUPERVISOR},
    "experts.draw.manage": {Role.CENTER_STAFF},
    "experts.draw.supervise": {Role.SUPERVISOR},
    "experts.invitation.answer": {Role.EXPERT},
}


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("permission", sorted(ROLE_MATRIX))
def test_policy_role_matrix(role: Role, permission: str) -> None:
    assert POLICY.allows(_actor(role), permission, _Tender()) == (role in ROLE_MATRIX[permission])
    assert POLICY.allows(system_actor(), permission, _Tender())


def test_policy_relations() -> None:
    tender = _Tender()
    tenderer = _actor(Role.TENDERER, "org-t")
    agency = _actor(Role.AGENCY, "org-a")
    stranger = _actor(Role.TENDERER, "org-z")
    assert POLICY.allows(tenderer, "experts.draw.avoid", tender)
    assert POLICY.allows(agency, "experts.draw.avoid", tender)
    assert not POLICY.allows(stranger, "experts.draw.avoid", tender)
    assert POLICY.allows(agency, "experts.draw.view", tender)
    assert not POLICY.allows(stranger, "experts.draw.view", tender)
    assert not POLICY.allows(_actor(Role.BIDDER), "experts.draw.view", tender)
    me, other = _actor(Role.EXPERT, user="u1"), _actor(Role.EXPERT, user="u2")
    assert POLICY.allows(me, "experts.profile.edit", _Expert())
    assert not POLICY.allows(other, "experts.profile.edit", _Expert())
    assert POLICY.allows(_actor(Role.CENTER_STAFF), "experts.profile.edit", _Expert())
