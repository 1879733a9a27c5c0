"""The committed schemas, examples and AsyncAPI documents are what the code says, and agree."""

import json

import jsonschema
import pytest

from contracts import topics
from contracts.export import ASYNCAPI, EXAMPLES, OPENAPI, SCHEMAS, all_documents
from contracts.messages import REGISTRY


def test_committed_documents_match_the_code():
    stale = [
        str(path.relative_to(path.parents[1]))
        for path, text in all_documents().items()
        if not path.exists() or path.read_text() != text
    ]
    assert not stale, f"run `make docs` and commit: {stale}"


def test_no_orphan_documents_are_committed():
    # Also catches a document the code stopped producing (a service whose read API went missing).
    expected = set(all_documents())
    present = {path for folder in (SCHEMAS, EXAMPLES, ASYNCAPI, OPENAPI) for path in folder.iterdir()}
    assert present <= expected, f"remove, or find out why the code no longer writes: {sorted(map(str, present - expected))}"


@pytest.mark.parametrize("type_name", sorted(REGISTRY))
def test_each_example_is_valid_against_its_model_and_its_schema(type_name):
    example = json.loads((EXAMPLES / f"{type_name}.json").read_text())
    schema = json.loads((SCHEMAS / f"{type_name}.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(example, schema, cls=jsonschema.Draft202012Validator)
    model = REGISTRY[type_name].model_validate(example)
    assert model.aggregate_id(), "the example names its aggregate (the Kafka key)"


@pytest.mark.parametrize("type_name", sorted(REGISTRY))
def test_each_type_lives_on_a_platform_topic(type_name):
    assert REGISTRY[type_name].topic in topics.ALL


def test_schemas_reject_what_the_models_reject():
    schema = json.loads((SCHEMAS / "invoice.create.schema.json").read_text())
    example = json.loads((EXAMPLES / "invoice.create.json").read_text())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**example, "unknown_field": 1}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**example, "customer": {**example["customer"], "email": ["a@x.example"] * 4}}, schema)
