"""``GET /api/v1/openapi.json`` (the OpenAPI 3.1 document) and ``GET /api/v1/docs`` (the same
rendered as a self-contained HTML page: no CDN, nodes may be offline). Both are public."""
from __future__ import annotations

import copy
import re
from typing import Any

from flask import render_template, request
from markupsafe import Markup, escape

from ..version import current_version
from . import bp, spec

METHODS = ("get", "post", "put", "patch", "delete")


def _document() -> dict[str, Any]:
    # Behind a reverse proxy under a prefix, script_root keeps the server URL right.
    return copy.deepcopy(spec.document(current_version(),
                                       request.script_root + (bp.url_prefix or "")))


@bp.get("/openapi.json")
def openapi_json():
    return _document()


_CODE_SPAN = re.compile(r"`([^`]+)`")


def code_spans(text: str | None) -> Markup:
    """Markdown's inline code (`x`) as <code>x</code>; everything else escaped first, so a
    description can never inject markup."""
    return Markup(_CODE_SPAN.sub(r"<code>\1</code>", str(escape(text or ""))))


@bp.app_template_filter("code_spans")
def _code_spans_filter(text: str | None) -> Markup:
    return code_spans(text)


def type_label(schema: dict[str, Any]) -> str:
    """A short human description of a schema: ``array of Charger``, ``string (date-time)``."""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "allOf" in schema:
        return " + ".join(type_label(part) for part in schema["allOf"])
    kind = schema.get("type", "any")
    if kind == "array":
        label = f"array of {type_label(schema.get('items', {}))}"
    elif isinstance(kind, list):
        label = " or ".join(kind)
    else:
        label = kind
    if schema.get("format"):
        label += f" ({schema['format']})"
    return label


def _properties(schema: dict[str, Any]) -> list[dict[str, Any]]:
    required = set(schema.get("required", ()))
    rows = []
    for name, prop in schema.get("properties", {}).items():
        notes = [prop["description"]] if prop.get("description") else []
        if "enum" in prop:
            notes.append("one of: " + ", ".join(str(v) for v in prop["enum"]))
        for key in ("minLength", "maxLength", "minimum", "maximum", "default"):
            if key in prop:
                notes.append(f"{key} {prop[key]}")
        rows.append({"name": name, "type": type_label(prop), "required": name in required,
                     "notes": "; ".join(notes),
                     "ref": _ref_name(prop.get("items", prop))})
    return rows


def _ref_name(schema: dict[str, Any]) -> str | None:
    return schema["$ref"].rsplit("/", 1)[-1] if "$ref" in schema else None


def _content(content: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"media_type": media, "type": type_label(item.get("schema", {})),
             "ref": _ref_name(item.get("schema", {}))} for media, item in content.items()]


def view_model(document: dict[str, Any]) -> dict[str, Any]:
    """Flatten the document into what the template lists."""
    operations = []
    for path, item in document["paths"].items():
        for method in METHODS:
            if method not in item:
                continue
            op = item[method]
            operations.append({
                "anchor": f"{method}-{path}".replace("/", "-").replace("{", "").replace("}", ""),
                "method": method.upper(), "path": path, "summary": op["summary"],
                "description": op.get("description"), "tag": op["tags"][0],
                "public": op.get("security") == [],
                "parameters": [{"name": p["name"], "in": p["in"], "required": p["required"],
                                "type": type_label(p["schema"]), "description": p["description"]}
                               for p in op.get("parameters", ())],
                "request": _content(op["requestBody"]["content"]) if "requestBody" in op else [],
                "responses": [{"status": status, "description": r["description"],
                               "content": _content(r.get("content", {}))}
                              for status, r in op["responses"].items()],
            })
    schemas = [{"name": name, "description": schema.get("description"),
                "type": type_label(schema) if "properties" not in schema else "object",
                "properties": _properties(schema)
                + [row for part in schema.get("allOf", ()) for row in _properties(part)]}
               for name, schema in document["components"]["schemas"].items()]
    return {"info": document["info"], "server": document["servers"][0]["url"],
            "operations": operations, "schemas": schemas}


@bp.get("/docs")
def openapi_docs():
    return render_template("api/docs.html", **view_model(_document()))
