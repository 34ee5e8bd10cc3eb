"""Architecture rules of the crypto package, checked on its source (these tests can fail):

* it imports nothing from the rest of Sunlit;
* only ``_sm2`` imports the SM2 binding;
* nothing uses Python's ``random`` module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import sunlit.kernel.crypto as crypto_pkg

PACKAGE_DIR = Path(crypto_pkg.__file__).parent
SOURCES = sorted(PACKAGE_DIR.rglob("*.py"))


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import inside the package
                names.add("sunlit.kernel.crypto." + (node.module or ""))
            elif node.module:
                names.add(node.module)
    return names


def test_sources_found() -> None:
    assert {p.name for p in SOURCES} >= {"__init__.py", "_sm2.py", "suites.py", "x509.py"}


def test_no_imports_from_the_rest_of_sunlit() -> None:
    for path in SOURCES:
        for name in _imports(path):
            if name == "sunlit" or name.startswith("sunlit."):
                assert name.startswith("sunlit.kernel.crypto"), f"{path.name} imports {name}"


def test_only_the_sm2_module_imports_the_binding() -> None:
    for path in SOURCES:
        uses_binding = any(
            n.split(".")[0] in {"gmssl_fast", "gmssl", "pysmx"} for n in _imports(path)
        )
        assert uses_binding == (path.name == "_sm2.py"), path.name


def test_python_random_is_never_used() -> None:
    for path in SOURCES:
        assert not any(n.split(".")[0] == "random" for n in _imports(path)), path.name
