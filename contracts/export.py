"""Writes the published form of the contracts: JSON Schema and an example per message type, an
AsyncAPI document per service, an OpenAPI document per service with a read API, and the list of
reason codes. `python -m contracts.export` (or
`make docs`) regenerates them; tests/contracts/test_published_contracts.py fails when the
committed files drift from the code.
"""

import importlib
import json
import os
from pathlib import Path
from unittest import mock

import yaml

from contracts.example_data import examples
from contracts.messages import REGISTRY
from contracts.reasons import reason_codes_document

ROOT = Path(__file__).resolve().parent
SCHEMAS = ROOT / "schemas"
EXAMPLES = ROOT / "examples"
DOCS = ROOT.parent / "docs"
ASYNCAPI = DOCS / "asyncapi"
OPENAPI = DOCS / "openapi"
REASON_CODES = DOCS / "reason-codes.md"
SERVICES = ("invoices", "numbering", "payments", "mailer")


def schema_documents() -> dict[Path, str]:
    documents = {}
    for type_name, model in sorted(REGISTRY.items()):
        schema = model.model_json_schema()
        schema = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"urn:invoicing:message:{type_name}",
            "title": type_name,
            "description": (model.__doc__ or "").strip() or schema.get("description", ""),
            "x-topic": model.topic,
            "x-kind": model.message_kind,
            "x-kafka-key": model.key_field,
            **({"x-internal": True} if model.internal else {}),
            **{k: v for k, v in schema.items() if k not in ("title", "description")},
        }
        documents[SCHEMAS / f"{type_name}.schema.json"] = json.dumps(schema, indent=2, sort_keys=False) + "\n"
    return documents


def example_documents() -> dict[Path, str]:
    return {
        EXAMPLES / f"{type_name}.json": json.dumps(data.model_dump(mode="json"), indent=2) + "\n"
        for type_name, data in sorted(examples().items())
    }


def service_documents() -> dict[Path, str]:
    """Each service's AsyncAPI document, and its OpenAPI document if it serves a read API."""
    documents = {}
    # The document names the broker and its security from the environment; pin them to production's
    # (SASL_SSL with SCRAM-SHA-512, docs/kafka-security.md) so the output does not depend on which
    # stack the generating shell points at. No credential appears in the document.
    pinned = {"KAFKA_BOOTSTRAP_SERVERS": "kafka:9092", "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
              "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512", "KAFKA_SASL_USERNAME": "", "KAFKA_SASL_PASSWORD": "",
              "KAFKA_SASL_PASSWORD_FILE": "", "KAFKA_SSL_CAFILE": ""}
    with mock.patch.dict(os.environ, pinned):
        for service in SERVICES:
            app = importlib.import_module(f"services.{service}.app").create_app()
            specification = app.schema.to_specification().to_jsonable()
            # Sorted keys: FastStream's channel order follows set iteration, which varies by run.
            documents[ASYNCAPI / f"{service}.yaml"] = yaml.safe_dump(specification, sort_keys=True, allow_unicode=True)
            if hasattr(app, "api"):
                documents[OPENAPI / f"{service}.json"] = json.dumps(app.api.openapi(), indent=2) + "\n"
    return documents


def all_documents() -> dict[Path, str]:
    return {
        **schema_documents(),
        **example_documents(),
        **service_documents(),
        REASON_CODES: reason_codes_document(),
    }


def main() -> None:
    documents = all_documents()
    for folder in (SCHEMAS, EXAMPLES, ASYNCAPI, OPENAPI):
        folder.mkdir(parents=True, exist_ok=True)
        for stale in set(folder.iterdir()) - set(documents):
            stale.unlink()
    for path, text in documents.items():
        path.write_text(text)
    print(f"wrote {len(documents)} files under {SCHEMAS.name}/, {EXAMPLES.name}/, docs/asyncapi/, docs/openapi/ and docs/")


if __name__ == "__main__":
    main()
