"""The guarantee interface as one OpenAPI 3.1 document: the platform's FI endpoints (from the
FastAPI routes) with their message schemas, and the FI's endpoints as ``webhooks``.

``SUNLIT_REGENERATE=1 pytest tests/guarantees/test_spec.py`` rewrites the published file
``docs/spec/guarantee-api.openapi.json``; without it the test fails when the two differ."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

from . import schemas

SIGNED = {
    "description": "报文签名（docs/spec/partner-messaging.md）",
    "parameters": [
        {"name": h, "in": "header", "required": True, "schema": {"type": "string"}}
        for h in ("X-Sunlit-Partner", "X-Sunlit-Timestamp", "X-Sunlit-Nonce", "X-Sunlit-Signature")
    ]
    + [
        {"name": "Idempotency-Key", "in": "header", "required": False, "schema": {"type": "string"}}
    ],
}

PLATFORM: dict[tuple[str, str], tuple[type[BaseModel] | None, type[BaseModel] | None]] = {
    ("/api/v1/guarantee/fi/products", "post"): (None, None),
    ("/api/v1/guarantee/fi/decisions", "post"): (schemas.DecisionMsg, None),
    ("/api/v1/guarantee/fi/payments", "post"): (schemas.PaymentMsg, schemas.PaymentAnswer),
    ("/api/v1/guarantee/fi/issuances", "post"): (schemas.IssuanceMsg, schemas.IssuanceAnswer),
    ("/api/v1/guarantee/fi/claim-results", "post"): (schemas.ClaimResultMsg, None),
    ("/api/v1/guarantee/fi/orders/{order_no}", "get"): (None, schemas.OrderView),
    ("/api/v1/guarantee/fi/reconcile", "get"): (None, schemas.PlatformReconcile),
}

WEBHOOKS: dict[str, tuple[str, str, type[BaseModel] | None, type[BaseModel] | None, str]] = {
    "applications": (
        "post",
        "/applications",
        schemas.ApplicationMsg,
        schemas.ApplicationAck,
        "保函申请推送（标段与招标人信息为密文）",
    ),
    "reveals": ("post", "/reveals", schemas.RevealMsg, None, "开标后解密还原通知"),
    "releases": ("post", "/releases", schemas.ReleaseMsg, None, "退保 / 注销通知"),
    "claims": ("post", "/claims", schemas.ClaimMsg, None, "索赔申请推送"),
    "cancellations": ("post", "/cancellations", schemas.CancelMsg, None, "投标人撤销申请"),
    "reconcile": (
        "get",
        "/reconcile",
        None,
        schemas.FiReconcile,
        "对账：平台查询金融机构的订单记录",
    ),
}


def _ref(model: type[BaseModel], components: dict[str, Any]) -> dict[str, str]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, sub in schema.pop("$defs", {}).items():
        components[name] = sub
    components[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _body(model: type[BaseModel], components: dict[str, Any]) -> dict[str, Any]:
    return {
        "required": True,
        "content": {"application/json": {"schema": _ref(model, components)}},
    }


def document(app: FastAPI) -> dict[str, Any]:
    full = app.openapi()
    components: dict[str, Any] = {}
    paths: dict[str, Any] = {}
    for (path, method), (request, response) in PLATFORM.items():
        op = dict(full["paths"][path][method])
        op.pop("responses", None)
        op["parameters"] = [*op.get("parameters", []), *SIGNED["parameters"]]
        if request is not None:
            op["requestBody"] = _body(request, components)
        ok: dict[str, Any] = {"description": "OK"}
        if response is not None:
            ok["content"] = {"application/json": {"schema": _ref(response, components)}}
        op["responses"] = {
            "200": ok,
            "401": {"description": "签名、时间戳、随机数或接入方不合格（partner.*）"},
            "404": {"description": "未知订单（guarantee.application.unknown）"},
            "409": {"description": "状态不允许或幂等键冲突"},
            "422": {"description": "内容不合格（见 code）"},
            "425": {"description": "先到的报文依赖尚未到达的报文：稍后重发"},
        }
        paths.setdefault(path, {})[method] = op
    webhooks: dict[str, Any] = {}
    for name, (method, fi_path, request, response, summary) in WEBHOOKS.items():
        hook: dict[str, Any] = {
            "summary": summary,
            "description": f"平台调用金融机构接口 {method.upper()} {{base_url}}{fi_path}",
            "parameters": SIGNED["parameters"],
            "responses": {
                "200": {"description": "已受理（2xx 视为送达；4xx 为最终拒绝；其他重试）"}
            },
        }
        if request is not None:
            hook["requestBody"] = _body(request, components)
        if response is not None:
            hook["responses"]["200"]["content"] = {
                "application/json": {"schema": _ref(response, components)}
            }
        webhooks[name] = {method: hook}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Sunlit 电子投标保函接口 (guarantee API)",
            "version": "1.0.0",
            "description": "See docs/spec/guarantee-api.md and docs/spec/partner-messaging.md.",
        },
        "paths": paths,
        "webhooks": webhooks,
        "components": {"schemas": dict(sorted(components.items()))},
    }
