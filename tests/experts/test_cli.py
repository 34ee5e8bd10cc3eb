"""``sunlit experts import|export|list|commitment`` in separate processes on a SQLite file."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from openpyxl import load_workbook

from tests.experts.test_pool import _row, _workbook

SUNLIT = str(Path(sys.executable).parent / "sunlit")


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "SUNLIT_DATA_DIR": str(tmp_path / "var"),
        "SUNLIT_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "COLUMNS": "200",
    }
    return subprocess.run(
        [SUNLIT, "experts", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


def test_import_export_list(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(_workbook([_row(1), _row(2, mobile="12345")]))
    done = _run(tmp_path, "import", str(bad))
    assert done.returncode == 1
    assert "第3行 手机号码" in done.stdout and "未导入任何专家" in done.stdout
    good = tmp_path / "good.xlsx"
    good.write_bytes(_workbook([_row(n) for n in range(1, 4)]))
    done = _run(tmp_path, "import", str(good))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "新增 3 人" in done.stdout
    done = _run(tmp_path, "list", "--specialty", "A03")
    assert "共 3 名专家" in done.stdout and "专家002" in done.stdout
    out = tmp_path / "out.xlsx"
    assert _run(tmp_path, "export", str(out)).returncode == 0
    ws = load_workbook(io.BytesIO(out.read_bytes())).active
    assert ws is not None and ws.max_row == 4
    done = _run(tmp_path, "commitment")
    assert done.returncode == 0 and "承诺值 commitment:" in done.stdout
