"""Consumers read events through one typed path (`kafkagram.events.reading`): the models ask only for
fields the catalogue's schemas have, read every catalogued example, and refuse, with one error, any
record that is not theirs to read."""

from __future__ import annotations

import pytest

from kafkagram.events import CATALOG, EventData, UnexpectedEvent, new_event, read_data, reading, spec_for
from kafkagram.events.envelope import Event

MODELS = [model for model in vars(reading).values()
          if isinstance(model, type) and issubclass(model, EventData) and model is not EventData]


def test_every_model_reads_catalogued_types_and_only_their_fields():
    assert MODELS, "no event data model found"
    for model in MODELS:
        for type_name in model.TYPES:
            properties = spec_for(type_name, model.VERSION).properties
            assert set(model.model_fields) <= set(properties), (model.__name__, type_name)


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.__name__)
def test_every_model_reads_the_catalogues_example_of_each_of_its_types(model: type[EventData]):
    for type_name in model.TYPES:
        spec = spec_for(type_name, model.VERSION)
        data = read_data(Event(type=type_name, version=spec.version, actor_id="1001", data=spec.example), model)
        ids = [name for name, field in model.model_fields.items() if field.annotation is int]
        assert all(isinstance(getattr(data, name), int) for name in ids)  # ids travel as strings, read as ints


def test_another_type_a_newer_version_or_missing_fields_are_one_error():
    created = new_event("post-created", CATALOG["post-created"].example, 1001)
    with pytest.raises(UnexpectedEvent, match="not post-created"):
        read_data(created, reading.PostDeleted)
    newer = Event(**{**created.model_dump(), "version": created.version + 1})
    with pytest.raises(UnexpectedEvent, match="version"):
        read_data(newer, reading.PostCreated)
    partial = Event(**{**created.model_dump(), "data": {"post_id": "3001"}})
    with pytest.raises(UnexpectedEvent, match="unusable data"):
        read_data(partial, reading.PostCreated)
