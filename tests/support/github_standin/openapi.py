"""Check the stand-in's responses against GitHub's own OpenAPI description.

The description (npm ``@octokit/openapi``, OpenAPI 3.0, ~13 MB) is loaded once and
registered as one JSON-Schema resource; each check validates a response body
against ``#/paths/<template>/<method>/responses/<status>/content/<type>/schema``
with openapi-schema-validator's OAS 3.0 validator (``nullable``, formats), so only
the schemas an operation uses are ever resolved.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openapi_schema_validator import OAS30Validator, oas30_format_checker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from .fetch_openapi import VERSION, description_path

URN = "urn:github-openapi"
FETCH_COMMAND = "python3 tests/support/github_standin/fetch_openapi.py"


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _nullable_enum(err: Any) -> bool:
    """OAS 3.0.3 wants ``null`` listed in a nullable enum; GitHub's description omits it."""
    schema = err.schema if isinstance(err.schema, dict) else {}
    return err.validator == "enum" and err.instance is None and schema.get("nullable") is True


@dataclass(frozen=True)
class Problem:
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class OpenAPIDescription:
    """GitHub's REST description; ``validate`` returns what a response gets wrong."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.version = str(document.get("info", {}).get("version", "?"))
        resource = Resource.from_contents(document, default_specification=DRAFT4)
        self._registry: Registry[Any] = Registry().with_resource(URN, resource)
        self._validators: dict[str, OAS30Validator] = {}

    @classmethod
    def load(cls, path: Path | None = None) -> OpenAPIDescription:
        path = path or description_path()
        with path.open("rb") as fh:
            return cls(json.load(fh))

    @staticmethod
    def expected_version() -> str:
        return VERSION

    def _resolve(self, node: Any) -> tuple[Any, str | None]:
        """Follow a local ``$ref``; returns the target and its pointer (if it moved)."""
        pointer = None
        while isinstance(node, dict) and "$ref" in node:
            pointer = node["$ref"].removeprefix("#")
            node = self.document
            for token in pointer.strip("/").split("/"):
                node = node[token.replace("~1", "/").replace("~0", "~")]
        return node, pointer

    def has_operation(self, method: str, template: str) -> bool:
        return method.lower() in self.document["paths"].get(template, {})

    def operation_id(self, method: str, template: str) -> str:
        return str(self.document["paths"][template][method.lower()]["operationId"])

    def response_pointer(
        self, method: str, template: str, status: int, content_type: str = "application/json"
    ) -> str | None:
        """JSON pointer of the response schema, or None when the operation declares no body."""
        operation = self.document["paths"][template][method.lower()]
        responses = operation["responses"]
        key = str(status) if str(status) in responses else "default"
        if key not in responses:
            raise KeyError(f"{method} {template} declares no {status} response")
        response, moved = self._resolve(responses[key])
        base = moved or f"/paths/{_escape(template)}/{method.lower()}/responses/{key}"
        content = response.get("content") or {}
        if content_type not in content:
            return None
        return f"{base}/content/{_escape(content_type)}/schema"

    def _validator(self, pointer: str) -> OAS30Validator:
        validator = self._validators.get(pointer)
        if validator is None:
            self._drop_array_discriminator(pointer)
            validator = OAS30Validator(
                {"$ref": f"{URN}#{pointer}"},
                registry=self._registry,
                format_checker=oas30_format_checker,
            )
            self._validators[pointer] = validator
        return validator

    def _drop_array_discriminator(self, pointer: str) -> None:
        """A ``discriminator`` cannot pick a branch for an array body (the contents
        endpoint maps ``array`` to its directory listing); validate with ``oneOf`` alone."""
        schema, _ = self._resolve({"$ref": f"#{pointer}"})
        if not isinstance(schema, dict) or "discriminator" not in schema:
            return
        branches = [self._resolve(b)[0] for b in schema.get("oneOf") or []]
        if any(isinstance(b, dict) and b.get("type") == "array" for b in branches):
            del schema["discriminator"]

    def validate(self, method: str, template: str, status: int, body: Any) -> list[Problem]:
        """Problems of ``body`` as the ``status`` answer of ``method template`` (empty: conforms)."""
        if not self.has_operation(method, template):
            return [Problem(f"{method} {template}", "no such operation in the description")]
        try:
            pointer = self.response_pointer(method, template, status)
        except KeyError as exc:
            return [Problem(f"{method} {template}", str(exc))]
        if pointer is None:
            if body not in (None, b"", ""):
                return [Problem(f"{method} {template} {status}", "a body where none is declared")]
            return []
        problems = [
            Problem(
                f"{method} {template} {status} at /{'/'.join(str(p) for p in err.absolute_path)}",
                err.message[:300],
            )
            for err in self._validator(pointer).iter_errors(body)
            if not _nullable_enum(err)
        ]
        where = f"{method} {template} {status} at "
        return problems + [
            Problem(where + p.where, p.message) for p in self.undeclared(pointer, body)
        ]

    def undeclared(self, pointer: str, body: Any, limit: int = 20) -> list[Problem]:
        """Keys present in ``body`` that the schema does not declare anywhere (catches typos)."""
        schema, _ = self._resolve({"$ref": f"#{pointer}"})
        found: list[Problem] = []
        self._walk(schema, body, "", found, limit)
        return found

    def _properties(self, schema: Any) -> tuple[dict[str, Any], bool]:
        """Declared properties of a schema (through allOf/anyOf/oneOf); bool: open-ended."""
        schema, _ = self._resolve(schema)
        if not isinstance(schema, dict):
            return {}, True
        props: dict[str, Any] = dict(schema.get("properties") or {})
        open_ended = not props and not any(k in schema for k in ("allOf", "anyOf", "oneOf"))
        if isinstance(schema.get("additionalProperties"), dict | bool) and schema.get(
            "additionalProperties"
        ):
            open_ended = True
        for key in ("allOf", "anyOf", "oneOf"):
            for sub in schema.get(key) or []:
                sub_props, sub_open = self._properties(sub)
                props.update(sub_props)
                open_ended = open_ended or sub_open
        return props, open_ended

    def _walk(self, schema: Any, body: Any, where: str, found: list[Problem], limit: int) -> None:
        if len(found) >= limit:
            return
        schema, _ = self._resolve(schema)
        if isinstance(body, list) and isinstance(schema, dict):
            items = schema.get("items")
            if items is None:
                for key in ("anyOf", "oneOf", "allOf"):
                    for sub in schema.get(key) or []:
                        sub, _ = self._resolve(sub)
                        if isinstance(sub, dict) and sub.get("type") == "array":
                            items = sub.get("items")
            if items is not None:
                for index, item in enumerate(body[:5]):
                    self._walk(items, item, f"{where}/{index}", found, limit)
            return
        if not isinstance(body, dict):
            return
        props, open_ended = self._properties(schema)
        if open_ended:
            return
        for key, value in body.items():
            if key not in props:
                found.append(Problem(f"{where}/{key}", "not declared by GitHub's schema"))
            else:
                self._walk(props[key], value, f"{where}/{key}", found, limit)
