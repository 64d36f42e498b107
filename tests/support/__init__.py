"""Helpers of the tests (no tests here; fixtures stay in the conftest.py files):

    repo         paths of the repository (REPO, TEMPLATE, the test apps under apps/)
    services     the real services: test databases, Redis, the S3 emulator, free ports
    waiting      wait_for: a condition with a deadline (tests never sleep a fixed time)
    store        users, media and posts made through the store; outbox reads; a statement counter
    invocations  handlers called as the event source mapping calls them (AWS's Kafka event shape)
    uploads      uploads as the API makes them, for the media handlers
    images       hostile and photo-like images built in memory
    api          the API function called in-process or through the local gateway; accounts
    kafka        topics, producing and consuming on the test broker; the runtime's probe app
    served       a gateway served from its own thread, on a free port
    websocket    the WebSocket gateway of a template, and clients of it
    up           `kafkagram up` in a subprocess on free ports
    browser      Debian's chromium driven by Playwright
"""
