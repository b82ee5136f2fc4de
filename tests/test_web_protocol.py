"""The web UI's protocol types (web/src/protocol.ts) are generated from the committed
JSON Schema (docs/protocol.schema.json, itself checked against the models by
test_docs.py) with the json-schema-to-typescript pinned in web/package.json."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "web"
REGENERATE = "cd web && npm run protocol"


def test_committed_protocol_ts_matches_the_schema(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None or not (WEB / "node_modules" / "json-schema-to-typescript").is_dir():
        pytest.fail(
            "web/node_modules is missing json-schema-to-typescript: run ./scripts/test, "
            "which installs it (or: cd web && npm ci)"
        )
    generated = tmp_path / "protocol.ts"
    subprocess.run([node, "scripts/protocol.mjs", str(generated)], cwd=WEB, check=True, timeout=120)
    committed = (WEB / "src" / "protocol.ts").read_text()
    assert committed == generated.read_text(), f"web/src/protocol.ts is stale: run {REGENERATE}"
