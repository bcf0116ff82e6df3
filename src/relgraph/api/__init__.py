"""The GraphQL API: Strawberry schema on an ASGI app served by uvicorn."""
