"""``sunlit signer``: run the local certificate helper."""

from __future__ import annotations

from pathlib import Path

import typer

signer_app = typer.Typer(help="本机证书助手 (local certificate helper)", no_args_is_help=True)


@signer_app.command("serve")
def serve(
    keys: Path = typer.Option(..., help="证书与私钥所在目录（NAME.cert.pem + NAME.key.pem）"),
    origin: str = typer.Option("http://127.0.0.1:8000", help="平台地址"),
    port: int = typer.Option(18443, help="本机端口"),
) -> None:
    """启动证书助手，仅监听 127.0.0.1."""
    import uvicorn

    from sunlit.signer.server import create_signer_app, load_folder

    app = create_signer_app(load_folder(keys), origin)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def register(app: typer.Typer) -> None:
    app.add_typer(signer_app, name="signer")
