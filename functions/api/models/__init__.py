"""Request and response bodies of the HTTP API (pydantic), which are also the OpenAPI document's
schemas: `common` (ids, paging, errors), then one module per group of routes."""
