"""Notifying drawn experts (电脑随机抽取 → 语音自动通知 → 短信发送确认).

A :class:`Notifier` sends one :class:`Invitation` and says how each channel went. Adapters:

- :class:`RecordingNotifier` keeps what it was asked to send (tests, demos);
- :class:`VoiceNotifier` renders the call script to a WAV file with espeak-ng (what a voice
  gateway would play; the file is kept as the evidence of the call);
- :class:`HttpSmsNotifier` posts the SMS to an HTTP gateway; the gateway returns the expert's
  reply to ``POST /api/v1/experts/sms-replies`` with the invitation's reference;
- :class:`CompositeNotifier` chains them (voice, then SMS).

The expert's answer (confirm / decline) comes back later, through the SMS reply, his page or
the API; silence past ``respond_by`` counts as no answer. Delivery failures never raise: they
are recorded, and the expert is replaced when his time runs out.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import httpx


@dataclass(frozen=True)
class Invitation:
    reference: str  # unguessable; the SMS gateway sends it back with the reply
    mobile: str
    name: str
    text: str  # the call script / SMS text (no project name: 专家盲抽)
    respond_by: dt.datetime


@dataclass(frozen=True)
class Delivery:
    channel: str
    delivered: bool
    artifact: str = ""
    error: str = ""


class Notifier(Protocol):
    def send(self, invitation: Invitation) -> list[Delivery]: ...


@dataclass
class RecordingNotifier:
    """Keeps every invitation in memory (tests and demos)."""

    sent: list[Invitation] = field(default_factory=list)

    def send(self, invitation: Invitation) -> list[Delivery]:
        self.sent.append(invitation)
        return [Delivery("recording", True)]


@dataclass
class VoiceNotifier:
    """Renders the call script to ``<folder>/<reference>.wav`` with espeak-ng (Mandarin)."""

    folder: Path
    espeak: str = "espeak-ng"
    voice: str = "cmn"
    speed: int = 150

    @staticmethod
    def available(espeak: str = "espeak-ng") -> bool:
        return shutil.which(espeak) is not None

    def send(self, invitation: Invitation) -> list[Delivery]:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{invitation.reference}.wav"
        try:
            subprocess.run(  # noqa: S603 - fixed program, text passed as one argument
                [
                    self.espeak,
                    "-v",
                    self.voice,
                    "-s",
                    str(self.speed),
                    "-w",
                    str(path),
                    "--",
                    invitation.text,
                ],
                check=True,
                capture_output=True,
                timeout=60,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            return [Delivery("voice", False, error=f"espeak-ng: {exc}"[:500])]
        return [Delivery("voice", True, artifact=str(path))]


@dataclass
class HttpSmsNotifier:
    """Posts ``{"mobile", "text", "reference", "respond_by"}`` as JSON to an SMS gateway."""

    url: str
    token: str = ""
    timeout: float = 10.0

    def send(self, invitation: Invitation) -> list[Delivery]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        body = {
            "mobile": invitation.mobile,
            "text": invitation.text,
            "reference": invitation.reference,
            "respond_by": invitation.respond_by.isoformat(),
        }
        try:
            r = httpx.post(self.url, json=body, headers=headers, timeout=self.timeout)
        except httpx.HTTPError as exc:
            return [Delivery("sms", False, error=f"{type(exc).__name__}: {exc}"[:500])]
        if r.status_code // 100 != 2:
            return [Delivery("sms", False, error=f"HTTP {r.status_code}: {r.text[:200]}")]
        return [Delivery("sms", True, artifact=r.headers.get("X-Message-Id", ""))]


@dataclass
class CompositeNotifier:
    """Each notifier in turn (e.g. the voice call, then the SMS asking for the reply)."""

    notifiers: Sequence[Notifier]

    def send(self, invitation: Invitation) -> list[Delivery]:
        out: list[Delivery] = []
        for n in self.notifiers:
            out.extend(n.send(invitation))
        return out


def from_settings(
    kind: str, *, voice_dir: Path, espeak: str, sms_url: str, sms_token: str
) -> Notifier:
    """``recording`` | ``voice`` | ``sms`` | ``voice+sms`` (SUNLIT_EXPERT_NOTIFIER)."""
    parts: list[Notifier] = []
    for name in kind.split("+"):
        name = name.strip()
        if name == "recording":
            parts.append(RecordingNotifier())
        elif name == "voice":
            parts.append(VoiceNotifier(voice_dir, espeak))
        elif name == "sms":
            if not sms_url:
                raise ValueError("SUNLIT_SMS_GATEWAY_URL is required for the sms notifier")
            parts.append(HttpSmsNotifier(sms_url, sms_token))
        else:
            raise ValueError(f"unknown expert notifier {name!r}")
    return parts[0] if len(parts) == 1 else CompositeNotifier(parts)


def invitation_text(
    center: str, starts_at: dt.datetime, venue: str, respond_by: dt.datetime
) -> str:
    """The call script and SMS: time and place only, never the project (专家盲抽)."""
    when = starts_at.strftime("%Y年%m月%d日%H时%M分")
    until = respond_by.strftime("%m月%d日%H时%M分")
    place = f"，地点{venue}" if venue else ""
    return (
        f"您好，这里是{center}。您已被随机抽取为评标专家，评标时间{when}{place}。"
        f"请于{until}前回复短信：1 确认参加，2 不能参加。逾期未回复视为不能参加。"
    )
