"""The solution's promises about other sites: only the app's own pages may open its
socket or run scripts in its pages (cross-site WebSocket hijacking, injected scripts),
and it answers only to the names it is known by (DNS rebinding)."""

import pytest
import requests
import websocket

from app_client import receive_json, send_cheep, unique

pytestmark = pytest.mark.stage("solution")


def refusal(server, **options):
    """The HTTP status that refused the socket, or None when it opened."""
    try:
        server.connect(**options).close()
    except websocket.WebSocketBadStatusException as refused:
        return refused.status_code
    return None


@pytest.mark.parametrize(
    "origin", ["http://evil.example", "null", "http://127.0.0.1.evil.example", "https://localhost"]
)
def test_a_socket_opened_by_a_page_of_another_site_is_refused_with_403(server, origin):
    """A socket opened by a page of another site is refused with 403."""
    assert refusal(server, origin=origin) == 403


def test_the_refusal_names_the_origin(server):
    """The refusal names the origin."""
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        server.connect(origin="http://evil.example")
    assert b"http://evil.example" in refused.value.resp_body


def test_pages_of_the_app_itself_and_programs_without_an_origin_may_connect(server):
    """Pages of the app itself, and programs without an origin, may connect."""
    own = server.url.removeprefix("http://")
    assert refusal(server, origin=f"http://{own}") is None
    assert refusal(server, origin=f"https://{own}") is None  # the same app behind https
    assert refusal(server, suppress_origin=True) is None  # curl, scripts: not a browser


def test_allowed_origins_can_be_named_in_cheeper_allowed_origins(start_server):
    """Allowed origins can be named in CHEEPER_ALLOWED_ORIGINS."""
    server = start_server(env={"CHEEPER_ALLOWED_ORIGINS": "https://cheeper.example http://localhost:8000"})
    assert refusal(server, origin="https://cheeper.example") is None
    assert refusal(server, origin="http://localhost:8000") is None
    assert refusal(server, origin="http://evil.example") == 403


@pytest.mark.parametrize(
    "host", ["evil.example", "evil.example:{port}", "127.0.0.1.evil.example:{port}", "localhost.evil.example"]
)
def test_a_name_the_server_does_not_answer_to_gets_400_over_http_and_on_the_upgrade(server, host):
    """A host name the server does not answer to gets 400, over HTTP and on the upgrade."""
    # DNS rebinding: another site's name made to point at this computer. Its pages
    # have an Origin that matches their Host, so the Origin check alone lets them in.
    host = host.format(port=server.port)
    response = requests.get(server.url + "/", headers={"Host": host})
    assert response.status_code == 400 and "CHEEPER_ALLOWED_HOSTS" in response.text
    assert refusal(server, host=host, origin=f"http://{host}") == 400


def test_the_server_answers_to_ip_addresses_localhost_and_the_names_in_cheeper_allowed_hosts(start_server):
    """The server answers to IP addresses, localhost and the names in CHEEPER_ALLOWED_HOSTS."""
    server = start_server(env={"CHEEPER_ALLOWED_HOSTS": "cheeper.example"})
    port = server.port
    # As typed by someone in the room at HOST=0.0.0.0, and as nginx passes it on.
    for host in [
        f"127.0.0.1:{port}",
        f"localhost:{port}",
        f"[::1]:{port}",
        "192.168.1.20:5000",
        "cheeper.example",
        f"Cheeper.Example:{port}",
    ]:
        assert requests.get(server.url + "/", headers={"Host": host}).status_code == 200, host
        assert refusal(server, host=host, origin=f"http://{host}") is None, host


def test_a_refused_socket_disturbs_no_one(server, connect):
    """A refused socket disturbs no one."""
    bystander = connect()
    assert refusal(server, origin="http://evil.example") == 403
    text = unique()
    send_cheep(connect(), "Ada", text)
    assert receive_json(bystander)["cheep"] == text


@pytest.mark.parametrize("path", ["/", "/api/cheeps", "/static/cheeper.js", "/no-such-page"])
def test_every_response_allows_only_the_apps_own_scripts_and_sockets(server, path):
    """Every response allows only the app's own scripts and sockets."""
    response = requests.get(server.url + path)
    policy = dict(
        directive.strip().split(" ", 1) for directive in response.headers["Content-Security-Policy"].split(";")
    )
    assert policy["default-src"] == "'self'"
    host = server.url.removeprefix("http://")
    assert policy["connect-src"].split() == ["'self'", f"ws://{host}", f"wss://{host}"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_a_page_on_another_site_cannot_open_the_socket_in_a_real_browser(server, browser):
    """A page on another site cannot open the socket, in a real browser."""
    page = browser.new_page()
    try:
        # A page served from a made-up site, visited by someone who also uses Cheeper.
        page.route(
            "http://evil.example/",
            lambda route: route.fulfill(content_type="text/html", body="<!doctype html><title>Free prizes</title>"),
        )
        page.goto("http://evil.example/")
        outcome = page.evaluate(
            """url => new Promise(done => {
            const socket = new WebSocket(url);
            socket.onopen = () => done("opened");
            socket.onclose = event => done("closed " + event.code);
        })""",
            server.url.replace("http:", "ws:") + "/ws",
        )
        assert outcome == "closed 1006"  # the handshake failed: the browser saw the 403
    finally:
        page.close()
