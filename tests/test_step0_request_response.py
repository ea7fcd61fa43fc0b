"""Step 0's promises: the request/response Cheeper. Every later stage keeps them."""

from urllib.parse import urlparse

import pytest
import requests

from app_client import get_page, post_cheep, unique

pytestmark = pytest.mark.stage("step0_request_response")


def test_the_page_has_a_form_for_a_name_and_a_cheep_of_76_characters(server):
    """The page has a form for a name and a cheep of 76 characters."""
    form = get_page(server).find("form", action="/api/cheep")
    assert form is not None, 'No <form action="/api/cheep"> on the page.'
    assert form.get("method", "get").lower() == "post"
    assert form.find(attrs={"name": "name"}) is not None, "The form has no field named 'name'."
    cheep = form.find(attrs={"name": "cheep"})
    assert cheep is not None, "The form has no field named 'cheep'."
    assert cheep.get("maxlength") == "76"


def test_posting_a_cheep_redirects_back_to_the_page_with_303(server):
    """Posting a cheep redirects back to the page with 303."""
    response = post_cheep(server, "Ada", unique(), allow_redirects=False)
    assert response.status_code == 303, f"POST /api/cheep answered {response.status_code}, not 303 (See Other)."
    assert urlparse(response.headers["Location"]).path == "/"


def test_the_feed_shows_every_cheep_newest_first(server):
    """The feed shows every cheep, newest first."""
    first, second = unique("first"), unique("second")
    posted = [post_cheep(server, "Ada", first), post_cheep(server, "Grace", second)]
    text = get_page(server).get_text()
    for cheep, answer in zip((first, second), posted):
        assert cheep in text, why_not_shown(server, cheep, answer)
    assert text.index(second) < text.index(first), "The newest cheep should come first."


def test_names_and_cheeps_are_shown_as_text_not_as_html(server):
    """Names and cheeps are shown as text, not as HTML."""
    marker = unique("bold")
    post_cheep(server, "<i>Mallory</i>", f"<b>{marker}</b>")
    html = requests.get(server.url + "/").text
    assert f"&lt;b&gt;{marker}&lt;/b&gt;" in html
    assert f"<b>{marker}</b>" not in html
    assert "<i>Mallory</i>" not in html


def test_the_database_is_created_on_first_start_and_keeps_cheeps_across_a_restart(start_server, tmp_path):
    """The database is created on first start and keeps the cheeps across a restart."""
    database = tmp_path / "new" / "cheeps.db"
    database.parent.mkdir()
    server = start_server(database=database)
    assert database.exists(), f"The server started, and nothing is at the path that CHEEPER_DB names ({database})."
    kept = unique("kept")
    posted = post_cheep(server, "Ada", kept)
    assert kept in get_page(server).get_text(), why_not_shown(server, kept, posted)
    server.restart()
    assert kept in get_page(server).get_text(), why_not_shown(server, kept, posted, "after a restart")


def why_not_shown(server, cheep, posted, when="after it was posted"):
    """What a cheep missing from the page says about where it got lost; `posted` is
    the answer to its POST."""
    if posted.status_code >= 400:
        return (
            f"POST /api/cheep answered {posted.status_code}, not 303 (See Other), and the page does not show the cheep."
        )
    rows = server.rows()
    if any(cheep in row for row in rows):
        return f"A cheep is in cheeps.db, but the page does not show it {when}."
    if rows and "None" in rows[-1]:
        return (
            f"The page does not show a cheep {when}, and the newest row in cheeps.db holds None "
            f"where the name or the cheep should be: {rows[-1]}."
        )
    return (
        f"A cheep posted is not in the SQLite file that CHEEPER_DB names, and the page does not show it "
        f"{when}: it was not stored there."
    )


def test_ctrl_c_stops_the_server_without_a_traceback(start_server):
    """Ctrl+C stops the server without a traceback."""
    server = start_server()
    output = server.stop()
    assert "Traceback" not in output, f"Ctrl+C made the server print a traceback:\n{output}"


def test_a_port_in_use_is_explained_not_a_traceback(server_on_a_taken_port):
    """A port in use is explained, not a traceback."""
    server = server_on_a_taken_port
    output = server.output()
    assert server.process.returncode != 0
    assert "in use" in output and str(server.port) in output, output
    assert "Traceback" not in output, f"A taken port made the server print a traceback:\n{output}"
