"""The authoring machine's fingerprint sealed into the 唱标 summary (机器码 / MAC / tool).

Supervision systems compare these across the bids of a section: two bids sealed on the same
machine are an indicator of bid rigging (围标串标). The values are sealed with the summary, so
nobody sees them before the opening.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from sunlit import __version__

__all__ = ["MachineFingerprint", "collect_machine_fingerprint"]

_MACHINE_ID_FILES: Final = (Path("/etc/machine-id"), Path("/var/lib/dbus/machine-id"))
_MULTICAST_BIT: Final = 1 << 40


@dataclass(frozen=True)
class MachineFingerprint:
    """``machine_code``: a stable identifier of the machine (hex); ``mac``: the primary MAC
    address (``aa:bb:cc:dd:ee:ff``, empty when unknown); ``tool``: the sealing tool and version.
    Each is a string of at most 200 characters."""

    machine_code: str
    mac: str
    tool: str

    def to_json(self) -> dict[str, str]:
        return {"machine_code": self.machine_code, "mac": self.mac, "tool": self.tool}


def _machine_id() -> bytes:
    for path in _MACHINE_ID_FILES:
        try:
            value = path.read_bytes().strip()
        except OSError:
            continue
        if value:
            return value
    # No machine-id (Windows, macOS, minimal containers): fall back to the node id and host name.
    import platform

    return f"{uuid.getnode():012x}/{platform.node()}".encode()


def collect_machine_fingerprint() -> MachineFingerprint:
    """The fingerprint of this machine.

    The machine code is SHA-256 over a fixed label and the OS machine identifier, truncated to
    16 bytes: equal machines give equal codes, and the raw identifier is not disclosed.
    """
    code = hashlib.sha256(b"sunlit/machine-code\x00" + _machine_id()).hexdigest()[:32]
    node = uuid.getnode()
    # uuid.getnode() returns a random number with the multicast bit set when no MAC is found.
    mac = (
        ""
        if node & _MULTICAST_BIT
        else ":".join(f"{node:012x}"[i : i + 2] for i in range(0, 12, 2))
    )
    return MachineFingerprint(machine_code=code, mac=mac, tool=f"sunlit {__version__}")
