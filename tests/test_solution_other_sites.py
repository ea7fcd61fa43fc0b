"""The solution's promises about other sites: only the app's own pages may open its
socket or run scripts in its pages (cross-site WebSocket hijacking, injected scripts)."""
import pytest
import requests
import websocket

from app_client import receive_json, send_cheep, unique


def refusal(server, **options):
    """The HTTP status that refused the socket, or None when it opened."""
    try:
        server.connect(**options).close()
    except websocket.WebSocketBadStatusException as refused:
        return refused.status_code
    return None


@pytest.mark.parametrize("origin", ["http://evil.example", "null", "http://127.0.0.1.evil.example",
                                    "https://localhost"])
def test_a_socket_opened_by_a_page_of_another_site_is_refused_with_403(server, origin):
    assert refusal(server, origin=origin) == 403


def test_the_refusal_names_the_origin(server):
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        server.connect(origin="http://evil.example")
    assert b"http://evil.example" in refused.value.resp_body


def test_pages_of_the_app_itself_and_programs_without_an_origin_may_connect(server):
    own = server.url.removeprefix("http://")
    assert refusal(server, origin=f"http://{own}") is None
    assert refusal(server, origin=f"https://{own}") is None  # the same app behind https
    assert refusal(server, suppress_origin=True) is None  # curl, scripts: not a browser


def test_allowed_origins_can_be_named_in_cheeper_allowed_origins(start_server):
    server = start_server(env={"CHEEPER_ALLOWED_ORIGINS": "https://cheeper.example http://localhost:8000"})
    assert refusal(server, origin="https://cheeper.example") is None
    assert refusal(server, origin="http://localhost:8000") is None
    assert refusal(server, origin="http://evil.example") == 403


def test_a_refused_socket_disturbs_no_one(server, connect):
    bystander = connect()
    assert refusal(server, origin="http://evil.example") == 403
    text = unique()
    send_cheep(connect(), "Ada", text)
    assert receive_json(bystander)["cheep"] == text


@pytest.mark.parametrize("path", ["/", "/api/cheeps", "/static/cheeper.js", "/no-such-page"])
def test_every_response_allows_only_the_apps_own_scripts_and_sockets(server, path):
    response = requests.get(server.url + path)
    policy = dict(
        directive.strip().split(" ", 1) for directive in response.headers["Content-Security-Policy"].split(";")
    )
    assert policy["default-src"] == "'self'"
    host = server.url.removeprefix("http://")
    assert policy["connect-src"].split() == ["'self'", f"ws://{host}", f"wss://{host}"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_a_page_on_another_site_cannot_open_the_socket_in_a_real_browser(server, browser):
    page = browser.new_page()
    try:
        # A page served from a made-up site, visited by someone who also uses Cheeper.
        page.route("http://evil.example/", lambda route: route.fulfill(
            content_type="text/html", body="<!doctype html><title>Free prizes</title>"))
        page.goto("http://evil.example/")
        outcome = page.evaluate("""url => new Promise(done => {
            const socket = new WebSocket(url);
            socket.onopen = () => done("opened");
            socket.onclose = event => done("closed " + event.code);
        })""", server.url.replace("http:", "ws:") + "/ws")
        assert outcome == "closed 1006"  # the handshake failed: the browser saw the 403
    finally:
        page.close()
