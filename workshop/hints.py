"""What to tell an attendee whose code breaks a promise: the likely cause, in plain
words, and the section of the lesson that covers it.

A hint is chosen for a failed promise in this order:
1. evidence: a hint whose pattern is found in what the failure printed (the
   test's message, and the server's own output);
2. the promise: a hint that names the failed test.
A hint marked `first` explains most other failures too: when one appears, the
report says so, because fixing it will likely fix the rest.
"""

import re
from dataclasses import dataclass
from functools import cache

from workshop.crashes import AFTER_A_POST
from workshop.stages import LESSONS, ROOT, stage_index


@dataclass(frozen=True)
class Hint:
    key: str
    says: str
    stage: str  # the stage whose lesson page covers it, by name: "step1_server", "rooms"
    section: str  # the heading of that section
    tests: tuple = ()
    evidence: str = ""  # a regular expression
    first: bool = False

    @property
    def stage_number(self):
        """The stage's place in the lesson (workshop/stages.py): the report's order."""
        return stage_index(self.stage)

    @property
    def page(self):
        """The page of docs/ that covers it."""
        return LESSONS[self.stage_number]

    def seen_in(self, printed):
        """Whether what a failure printed holds this hint's evidence."""
        return bool(self.evidence and re.search(self.evidence, printed))


HINTS = [
    # A traceback in the server's output that names the mistake outweighs any symptom.
    Hint(
        "send-json",
        "The server sends the clients something other than JSON text. Turn the cheep into "
        "a string with json.dumps({...}) and send that string: websocket.send(a_dict) fails.",
        "step1_server",
        "The JSON protocol",
        evidence=r"message = bytes\(message\)[\s^]*TypeError|binary frame|which is not JSON",
    ),
    Hint(
        "invalid-json",
        "One message that was not JSON broke the connection: put json.loads() in "
        "try/except ValueError, and continue the loop.",
        "step1_server",
        "The JSON protocol",
        tests=("test_a_message_that_is_not_json_keeps_the_connection_and_the_server",),
        evidence=r"JSONDecodeError|After a message that was not JSON",
    ),
    Hint(
        "leaving",
        "After a client left, the broadcast broke for the others. Remove a socket from the "
        "set when its loop ends (try: ... finally: clients.discard(websocket)), and in "
        "broadcast() catch WebSocketError around send(), so one dead socket cannot stop it.",
        "step1_server",
        "When a client leaves",
        tests=("test_a_client_that_leaves_does_not_stop_later_broadcasts",),
        # A broadcast that stopped part way: the sender's socket closed, or some
        # clients got the cheep and others did not.
        evidence=r"WebSocketError: (Socket is dead|Connection is already closed)"
        r"|closed the WebSocket instead of sending a message"
        r"|never reached: (?!sender)",
    ),
    # Causes that break every WebSocket promise: told first.
    Hint(
        "no-ws-route",
        'Nothing answers at /ws (or /echo) yet: add @app.route("/ws", websocket=True) and its view, '
        "with the path spelt just so.",
        "step1_server",
        "The set of sockets",
        evidence=r"Handshake status 404|there is no /ws route",
        first=True,
    ),
    Hint(
        "not-gevent",
        "The WebSocket handshake was refused: the app is not served by gevent-websocket. "
        "At the end of server.py, serve it with WSGIServer((HOST, PORT), app, "
        "handler_class=WebSocketHandler), not with app.run() or flask run.",
        "step1_server",
        "Serving with gevent",
        evidence=r"Handshake status \d+|No WebSocket here",
        first=True,
    ),
    Hint(
        "websocket-flag",
        "The socket closes as soon as it opens: the view found no socket to keep. Does the route say "
        '@app.route("/ws", websocket=True)? Without it Flask refuses the WebSocket request (Werkzeug\'s '
        'WebsocketMismatch). And does ws() read the socket as request.environ.get("wsgi.websocket"), '
        "spelt just so?",
        "step1_server",
        "The websocket=True landmine",
        tests=("test_ws_stays_open_after_the_handshake",),
        evidence=r"closed the connection as soon as it opened",
        first=True,
    ),
    Hint(
        "no-loop",
        "The connection closes after one message: the view returns after its first "
        "receive(). Keep it open with a loop: while True, receive a message, stop when it "
        "is None, and handle it.",
        "step1_server",
        "The receive loop",
        tests=("test_ws_keeps_listening_after_a_cheep",),
        evidence=r"closed the connection (after the first message|instead of answering)",
        first=True,
    ),
    Hint(
        "none-ends-the-loop",
        "json.loads() got None: receive() returns None once the client has closed the connection, "
        "and the loop went on. End the loop then, before json.loads(): if message is None: break.",
        "step1_server",
        "The receive loop",
        evidence=r"must be str, bytes or bytearray, not NoneType",
    ),
    # Causes found in what the failure printed.
    Hint(
        "skips-sender",
        "The other clients got the cheep but the sender did not: the broadcast skips the "
        "socket that sent it. Send to every socket in the set; the sender's own page shows "
        "its cheep only when the server sends it back.",
        "step1_server",
        "The broadcast",
        evidence=r"but not the sender",
    ),
    Hint(
        "only-the-sender",
        "The cheep reached only the socket that sent it. ws() must call broadcast(cheep), which "
        "sends to every socket in the one set all views share; each socket joins it as soon as it "
        "connects (clients.add(websocket), before the loop); and that set is made once, near the top "
        "of server.py: one made inside ws() holds only its own socket.",
        "step1_server",
        "The set of sockets",
        evidence=r"reached only the socket that sent it",
    ),
    Hint(
        "never-added",
        "No client received the cheep. Is each new socket added to the set "
        "(clients.add(websocket)) before the receive loop, and does the view call "
        "broadcast() after save_cheep()?",
        "step1_server",
        "The set of sockets",
        evidence=r"never reached: sender, ",
    ),
    Hint(
        "handler-never-ran",
        'Check that the selector in $("#cheep-form").on("submit", ...) names the form\'s id exactly '
        "as index.html writes it, and that the page loads cheeper.js.",
        "step2_client",
        "Sending from the form",
        evidence=r"submit handler never ran",
        first=True,
    ),
    Hint(
        "reloads",
        "Call event.preventDefault() first thing in the form's submit handler, so that the browser "
        "does not post the form as well.",
        "step2_client",
        "Sending from the form",
        evidence=rf"the form also posted itself|{re.escape(AFTER_A_POST)}",
        first=True,
    ),
    Hint(
        "hard-coded-host",
        "Build the socket's URL from the page's own address, and the path /ws: "
        '(location.protocol === "https:" ? "wss:" : "ws:") + "//" + location.host + "/ws". '
        "A hard-coded :5000 or localhost breaks on any other port or computer.",
        "step2_client",
        "The socket's address",
        tests=(
            "test_the_pages_own_scripts_and_styles_name_no_host",
            "test_the_page_opens_its_socket_to_the_address_it_came_from",
        ),
        evidence=r"names a host|opened its WebSocket at",
        first=True,
    ),
    Hint(
        "cdn",
        'Load jQuery from the app itself: <script src="/static/jquery.min.js">, the copy '
        "in static/. A CDN is another host: on conference Wi-Fi it may not answer.",
        "step2_client",
        "jQuery, from the app itself",
        tests=(
            "test_the_page_loads_nothing_from_another_host",
            "test_the_page_loads_jquery_from_the_app_itself",
            "test_no_request_leaves_the_apps_own_host",
        ),
        evidence=r"from elsewhere|not the vendored jQuery|loads no jQuery|jQuery did not load",
        first=True,
    ),
    Hint(
        "jquery-first",
        "The page's script ran before jQuery was there: $ is not defined. In index.html, jQuery's "
        '<script src="/static/jquery.min.js"> must come before <script src="/static/cheeper.js">.',
        "step2_client",
        "jQuery, from the app itself",
        evidence=r"ReferenceError: (\$|jQuery) is not defined",
        first=True,
    ),
    Hint(
        "no-script",
        "The page loads no cheeper.js, so nothing on it opens a socket: add "
        '<script src="/static/cheeper.js"></script> to index.html, after jQuery\'s.',
        "step2_client",
        "What changes",
        evidence=r"loads no cheeper.js",
        first=True,
    ),
    Hint(
        "no-status",
        'The page has no element with id="status", so it cannot say it is live: add '
        '<p id="status"></p> to index.html, above the feed, for socket.onopen to write into.',
        "step2_client",
        "What changes",
        evidence=r'no element with id="status"',
        first=True,
    ),
    # The promises, one by one.
    Hint(
        "post-method",
        "POST /api/cheep answered 405 Method Not Allowed: its route takes only GET. Write "
        '@app.route("/api/cheep", methods=["POST"]).',
        "step0_request_response",
        "Posting a cheep",
        evidence=r"answered 405",
    ),
    Hint(
        "form-fields",
        "The view did not get the form's fields. A form's fields are in request.form[\"name\"] and "
        'request.form["cheep"], named as in the form (request.args holds only the ?query in the address).',
        "step0_request_response",
        "Posting a cheep",
        evidence=r"answered 400, not 303|holds None where the name or the cheep should be",
    ),
    Hint(
        "form",
        'The page needs a <form method="post" action="/api/cheep"> with fields named name '
        'and cheep, and the cheep field needs maxlength="76".',
        "step0_request_response",
        "The page",
        tests=(
            "test_the_page_has_a_form_for_a_name_and_a_cheep_of_76_characters",
            "test_a_browser_shows_the_page_and_its_cheeps",
        ),
    ),
    Hint(
        "redirect",
        'After storing the cheep, /api/cheep should answer redirect("/", code=303), so the '
        "browser goes back to the page with a GET.",
        "step0_request_response",
        "Posting a cheep",
        tests=(
            "test_posting_a_cheep_redirects_back_to_the_page_with_303",
            "test_without_javascript_submitting_the_form_posts_and_shows_the_cheep",
        ),
    ),
    Hint(
        "newest-first",
        "The feed should show every cheep, newest first: SELECT ... ORDER BY id DESC.",
        "step0_request_response",
        "The feed",
        tests=("test_the_feed_shows_every_cheep_newest_first",),
    ),
    Hint(
        "escape",
        "Names and cheeps must appear as text: let the template escape them ({{ cheep.cheep }}), and never add | safe.",
        "step0_request_response",
        "The page",
        tests=("test_names_and_cheeps_are_shown_as_text_not_as_html",),
    ),
    Hint(
        "storage",
        "Cheeps must be kept in the SQLite file that CHEEPER_DB names, with the table "
        "created on start and commit() after each insert, before the function returns, so that "
        "the page and a restart find them.",
        "step0_request_response",
        "Storing cheeps",
        tests=("test_the_database_is_created_on_first_start_and_keeps_cheeps_across_a_restart",),
        evidence=r"is not in the SQLite file that CHEEPER_DB names|nothing is at the path that CHEEPER_DB names",
    ),
    Hint(
        "locked",
        "SQLite says the database is locked: a connection still holds a write it never committed. "
        "In save_cheep(), call db.commit() and db.close() before the return, on every path.",
        "step0_request_response",
        "Storing cheeps",
        evidence=r"database is locked",
    ),
    Hint(
        "feed-shows-stored",
        "A cheep is stored in cheeps.db, but the page does not show it. all_cheeps() must SELECT "
        "every cheep and return them, and index() must pass them to the template, whose "
        "{% for cheep in cheeps %} loop draws each one.",
        "step0_request_response",
        "The feed",
        evidence=r"is in cheeps.db, but the page does not show it",
    ),
    Hint(
        "ctrl-c",
        "Ctrl+C should stop the server quietly. With gevent, call "
        "gevent.signal_handler(signal.SIGINT, server.stop) before server.serve_forever().",
        "step1_server",
        "Serving with gevent",
        tests=(
            "test_ctrl_c_stops_the_server_without_a_traceback",
            "test_ctrl_c_stops_the_server_while_sockets_are_open",
        ),
        evidence=r"KeyboardInterrupt",
    ),
    Hint(
        "port-in-use",
        "When the port is taken, catch the OSError from server.start() and say how to pick "
        "another port (the PORT environment variable) instead of showing a traceback.",
        "step1_server",
        "Serving with gevent",
        tests=("test_a_port_in_use_is_explained_not_a_traceback", "test_a_port_in_use_says_how_to_pick_another"),
        evidence=r"Address already in use",
    ),
    Hint(
        "echo",
        "/echo should send back every message it receives, in a loop: "
        "websocket.send(message) after each websocket.receive().",
        "step1_server",
        "The echo warm-up",
        tests=("test_echo_answers_a_message", "test_echo_keeps_answering"),
    ),
    Hint(
        "broadcast",
        "Each cheep that arrives on /ws should be stored, then sent to every socket in the set, the sender included.",
        "step1_server",
        "The broadcast",
        tests=(
            "test_a_cheep_reaches_every_connected_client_sender_included",
            "test_a_cheep_sent_over_the_socket_is_stored",
        ),
    ),
    Hint(
        "shape",
        'A cheep sent to the clients has the fields type ("cheep"), id, name, cheep and time, '
        'at least: json.dumps({"type": "cheep", **cheep}), with the dict save_cheep() returns.',
        "step1_server",
        "The JSON protocol",
        evidence=r"messages that did not hold it",
        tests=("test_a_broadcast_cheep_has_the_protocols_shape", "test_every_stored_cheep_gets_a_larger_id"),
    ),
    Hint(
        "post-broadcast",
        "A cheep posted to /api/cheep is stored but never reaches the sockets: call "
        "broadcast(cheep) in post_cheep() too.",
        "step1_server",
        "The broadcast",
        tests=("test_a_posted_cheep_is_sent_to_every_socket_too",),
    ),
    Hint(
        "get-ws",
        "A plain GET of /ws should answer 400 with one sentence: add "
        "@app.errorhandler(WebsocketMismatch) returning that sentence and 400.",
        "step1_server",
        "The websocket=True landmine",
        tests=("test_a_plain_http_get_of_ws_is_a_400_with_a_sentence_not_a_traceback",),
    ),
    Hint(
        "text-not-html",
        "A name or a cheep made of HTML was drawn as HTML in the page. Build the feed item with jQuery "
        'and put the name and cheep in with .text(): never .html(), nor "<li>" + cheep.cheep + "</li>".',
        "step2_client",
        "Text, never HTML",
        tests=("test_html_in_a_cheep_is_shown_as_text_and_never_runs",),
        evidence=r"A script in a cheep ran|was drawn as HTML",
    ),
    Hint(
        "field-names",
        "A cheep reached the page, which drew it without its text. The server sends each cheep's "
        "fields as name and cheep: read them as cheep.name and cheep.cheep (a field it does not "
        "send, such as cheep.text, is undefined, and .text(undefined) puts nothing in).",
        "step2_client",
        "Showing each cheep as it arrives",
        evidence=r"appeared in #feed without its text",
    ),
    Hint(
        "live",
        "A cheep did not show up live. Check that cheeper.js sends "
        'JSON.stringify({type: "cheep", name: ..., cheep: ...}) when the form is submitted, '
        "and that socket.onmessage parses event.data and prepends the cheep to #feed. "
        "The browser's console (F12) shows any JavaScript error.",
        "step2_client",
        "Showing each cheep as it arrives",
        tests=(
            "test_a_cheep_sent_in_one_window_appears_in_both_without_a_reload",
            "test_enter_in_the_cheep_field_sends_it",
            "test_a_cheep_posted_elsewhere_appears_live",
            "test_two_windows_show_the_same_cheeps",
        ),
    ),
    Hint(
        "disconnected",
        "When the socket closes, say so on the page: in socket.onclose, put a sentence "
        "saying the live feed is disconnected into #status.",
        "step2_client",
        "When the connection closes",
        tests=("test_the_page_says_when_the_live_feed_is_disconnected",),
    ),
    Hint(
        "validation",
        "The server must check every cheep before storing it, and answer a bad one with "
        '{"type": "error", "message": "..."} on that socket only (a 400 for /api/cheep).',
        "solution",
        "Checking every cheep",
        tests=(
            "test_an_invalid_message_gets_an_error_on_its_socket_only_and_nothing_is_stored",
            "test_names_and_cheeps_are_trimmed_and_the_limits_are_inclusive",
            "test_an_unchecked_post_is_refused_with_400_and_the_reason",
            "test_a_cheep_posted_as_json_is_stored_broadcast_and_returned",
        ),
    ),
    Hint(
        "catch-up",
        "GET /api/cheeps?since=<id> should return the cheeps after that id, oldest first, "
        "with the same ids and fields as on the socket.",
        "solution",
        "Catching up",
        tests=(
            "test_catch_up_returns_the_cheeps_after_an_id_oldest_first",
            "test_catch_up_refuses_a_since_that_is_not_an_id",
            "test_the_ids_on_the_socket_are_the_ids_of_catch_up",
            "test_a_restarted_server_loses_no_cheep",
        ),
    ),
    Hint(
        "reconnect",
        "When the socket closes, the page should say it is reconnecting, try again after a "
        "growing delay, and on each open fetch /api/cheeps?since=<newest id shown>, showing "
        "each cheep once, in id order.",
        "solution",
        "Reconnecting",
        tests=(
            "test_the_page_reconnects_by_itself_when_the_server_comes_back",
            "test_a_cheep_stored_while_the_page_was_away_appears_once_it_is_back",
            "test_a_cheep_that_arrives_live_and_in_the_catch_up_shows_once",
            "test_caught_up_cheeps_take_their_place_below_newer_live_ones",
        ),
    ),
    Hint(
        "paging",
        'The feed comes a page at a time: GET / shows the newest 50 cheeps and a "Show older '
        'cheeps" link to /?before=<oldest id shown>; GET /api/cheeps answers at most one page '
        "(since=, before=, limit= from 1 to 200) and a Link header when more are left.",
        "solution",
        "A long feed, a page at a time",
        tests=(
            "test_the_page_shows_the_newest_50_and_links_to_older_pages_that_work_without_javascript",
            "test_the_api_gives_the_newest_page_then_older_ones_through_its_link_header",
            "test_pages_of_any_size_hold_every_cheep_once_forwards_and_backwards",
            "test_a_catch_up_answers_one_page_and_says_when_more_were_missed",
            "test_a_page_asked_for_wrongly_is_refused_with_the_reason",
            "test_an_older_page_asked_for_wrongly_is_refused_with_the_reason",
            "test_a_feed_of_exactly_two_pages_has_no_third",
            "test_an_empty_feed_and_ids_at_either_end_answer_a_page_or_nothing",
        ),
    ),
    Hint(
        "big-feed-page",
        "The page must not grow with the feed: put cheeps that arrive together on the page in one "
        'requestAnimationFrame, keep at most 200 (drop the oldest and point "Show older cheeps" '
        "at the oldest left), load older pages in place, and after missing more than a page "
        "start again from the newest page.",
        "solution",
        "A long feed, a page at a time",
        tests=(
            "test_show_older_cheeps_brings_them_in_place_until_there_are_none",
            "test_cheeps_that_arrive_together_are_drawn_together_in_one_frame",
            "test_a_flood_leaves_the_newest_200_on_the_page_once_each_and_the_rest_a_click_away",
            "test_a_page_that_missed_more_than_a_page_starts_again_from_the_newest",
            "test_a_tab_that_drew_nothing_for_a_while_shows_the_newest_200_and_links_to_the_rest",
            "test_cheeps_arriving_while_older_ones_load_leave_no_gap",
        ),
    ),
    Hint(
        "accessibility",
        "axe-core found a serious accessibility problem on the page: it names the element and "
        "the rule. Every field needs a label, text needs enough contrast, and the content sits in <main>.",
        "solution",
        "A long feed, a page at a time",
        tests=("test_the_page_has_no_serious_accessibility_problems_in_any_state",),
    ),
    Hint(
        "form-limits",
        "The form should refuse an empty or blank cheep without sending it, stop typing at "
        "76 characters (maxlength), and show the server's error messages in #error.",
        "solution",
        "The form",
        tests=(
            "test_an_empty_or_blank_cheep_is_not_sent",
            "test_typing_past_the_limit_stops_at_76_characters",
            "test_an_error_from_the_server_is_shown_to_the_user",
        ),
    ),
    Hint(
        "times-shown",
        "Every time on the page should read like 2026-05-04 09:30 UTC. The server writes each "
        "time as stored, and showTime() in cheeper.js shows it: on each live cheep, and on the "
        "cheeps the server drew, once the page has loaded.",
        "solution",
        "The form",
        tests=("test_every_time_on_the_page_reads_the_same_on_a_cheep_the_server_drew_and_on_a_live_one",),
    ),
    Hint(
        "keys",
        "A cheep sent with a key must be stored once: a UNIQUE index on the key column, and "
        "a cheep whose key is stored already is answered, to its sender only, with the cheep "
        "stored with it (the Idempotency-Key header for JSON, the form's hidden key field). "
        "A key that is not 16 to 64 safe characters, or that came with another cheep, is refused.",
        "solution",
        "A key for each cheep",
        tests=(
            "test_a_cheep_sent_twice_with_one_key_is_stored_once_and_its_sender_hears_the_same_id",
            "test_a_cheep_sent_again_on_a_new_socket_is_stored_once",
            "test_a_posted_cheep_with_an_idempotency_key_is_stored_once",
            "test_the_form_carries_a_new_key_with_each_page_so_a_double_submit_stores_one_cheep",
            "test_a_key_that_came_with_another_cheep_is_refused_with_a_reason",
            "test_a_key_that_is_not_a_short_string_of_safe_characters_is_refused",
            "test_a_refused_cheep_names_its_key_so_the_page_knows_which",
            "test_a_ping_gets_a_pong_on_its_own_socket_only",
            "test_a_cheep_stored_whose_answer_never_arrived_is_stored_once_when_sent_after_a_kill",
            "test_a_refusal_for_now_only_says_retry_so_that_the_page_sends_the_cheep_again",
            "test_a_key_in_a_json_body_counts_as_on_the_socket",
            "test_the_page_is_never_kept_in_the_browsers_cache_so_back_brings_a_fresh_key",
            "test_a_cheeps_db_from_before_keys_keeps_every_cheep_and_gains_keys",
            "test_two_workers_starting_together_on_a_cheeps_db_from_before_keys_both_open_it",
            "test_two_workers_storing_one_key_at_the_same_moment_store_one_cheep",
        ),
    ),
    Hint(
        "sending",
        "A cheep typed must wait on the page, shown as Sending… in #unsent and kept in "
        "localStorage, until it comes back from the server with its key; it is sent again, "
        "with the same key, on every new socket, and a moment later after an error with "
        '"retry": true. A socket that answers nothing for 5 s is replaced. A cheep refused '
        "for good (or closed with 1009) shows Not sent, and is never sent again.",
        "solution",
        "Sending again until it comes back",
        tests=(
            "test_cheeps_typed_offline_show_as_sending_and_arrive_once_each_when_back_online",
            "test_the_page_notices_by_itself_a_connection_that_went_silent",
            "test_a_cheep_the_server_never_heard_survives_a_reload_and_is_sent_once",
            "test_a_cheep_left_in_a_closed_tab_is_sent_by_the_next_page_that_opens",
            "test_a_cheep_whose_answer_died_with_the_server_is_stored_once_and_shown_once",
            "test_a_cheep_typed_while_the_page_is_reconnecting_is_sent_when_the_server_is_back",
            "test_a_refused_cheep_stops_sending_says_why_and_is_never_sent_again_and_edit_gives_it_back",
            "test_a_cheep_too_big_for_the_socket_is_not_sent_again_and_the_page_goes_on",
            "test_twelve_cheeps_typed_offline_all_arrive_once_though_only_ten_may_go_at_once",
            "test_a_cheep_left_by_a_tab_that_crashed_is_sent_by_a_page_opened_later",
            "test_a_socket_that_brings_cheeps_but_loses_what_the_page_sends_is_replaced",
        ),
    ),
    Hint(
        "frames",
        "A broken or oversized frame should close only its own socket, with the right code "
        "(1002, 1007, or 1009 past 4096 bytes), before the payload is read: sockets.py's "
        "CheckedWebSocket does it.",
        "solution",
        "At most 4096 bytes in a message",
        tests=(
            "test_a_broken_frame_closes_its_own_socket_with_the_right_code",
            "test_the_close_frame_for_a_message_too_big_says_the_limit",
            "test_a_cheep_in_fragments_is_one_cheep",
            "test_a_message_of_exactly_the_limit_is_read_not_closed",
            "test_a_close_without_a_code_gets_a_normal_goodbye",
        ),
    ),
    Hint(
        "rate-limit",
        "One person (one address, on all its sockets and POSTs together) may send 10 cheeps "
        "at once, then 5 a second; each one past that gets a Too fast error, or a 429 with "
        "Retry-After, and is not stored (the visitor's TokenBucket in limits.py, kept across reconnects).",
        "solution",
        "At most 10 cheeps at once, then 5 a second",
        tests=(
            "test_a_flood_from_one_person_gets_errors_past_the_burst_and_others_still_get_through",
            "test_one_person_has_one_allowance_across_their_tabs_reloads_and_posts",
        ),
    ),
    Hint(
        "fair-turns",
        "A socket that sends frames without pause must not keep the server to itself: "
        "gevent.sleep(0) after every frame read (and before every request on a connection), "
        "and a budget of 100 frames at once, then 20 a second, for each socket, past which "
        "it is closed with 1008 and a reason (sockets.py's read_frame).",
        "solution",
        "One socket cannot keep the server to itself",
        tests=(
            "test_a_socket_sending_frames_without_pause_is_closed_with_1008_and_says_why",
            "test_a_bystanders_cheeps_arrive_while_one_laptop_streams_frames_as_fast_as_it_can",
            "test_a_connection_sending_thousands_of_requests_at_once_holds_no_one_up",
        ),
    ),
    Hint(
        "request-in-time",
        "A request must arrive whole (head and body) within CHEEPER_REQUEST_SECONDS of the "
        "connection opening or of the last answer, else the connection is closed; headers past "
        "16 KiB or 100 lines get 431 (handler.py's handle_one_request, read_request and LimitedHead).",
        "solution",
        "A request arrives whole, soon, and small",
        tests=(
            "test_a_connection_is_closed_when_its_request_does_not_arrive_whole_in_time",
            "test_a_request_that_takes_a_moment_still_gets_its_answer",
            "test_request_headers_past_16_kib_or_100_lines_get_431_with_a_reason",
        ),
    ),
    Hint(
        "connections",
        "The handler counts the connections of each address and of everyone: past 30 from one "
        "address, 429 at once; past the capacity its open files allow (raised to the system's "
        "ceiling at start, with a reserve kept back), 503 at once (handler.py's handle).",
        "solution",
        "At most 30 connections from one address",
        tests=(
            "test_one_address_holds_30_connections_at_most_and_a_newcomer_from_another_still_gets_in",
            "test_the_server_raises_its_file_limit_and_past_its_capacity_answers_503_at_once",
        ),
    ),
    Hint(
        "hosts",
        "Answer only to IP addresses, localhost and the names in CHEEPER_ALLOWED_HOSTS: any other "
        "Host gets 400, on a page and on a handshake, before Flask (handler.py's check_request).",
        "solution",
        "Only the names it answers to",
        tests=(
            "test_a_name_the_server_does_not_answer_to_gets_400_over_http_and_on_the_upgrade",
            "test_the_server_answers_to_ip_addresses_localhost_and_the_names_in_cheeper_allowed_hosts",
        ),
    ),
    Hint(
        "any-message",
        "Some message got no answer, or something invalid was stored: every message gets "
        "its cheep back or an error, whatever it holds (half a character included).",
        "solution",
        "Bad input gets an answer on its own socket",
        tests=("test_any_messages_get_an_answer_each_and_only_valid_cheeps_are_stored",),
    ),
    Hint(
        "text",
        "A name or a cheep must show what was written, and only that: store it in NFC (unicodedata), "
        "refuse control characters, direction controls, text with nothing visible and more than 6 marks "
        "on one letter, each with its own sentence; count characters as a reader sees them (regex's \\X), "
        "at most 4 code points each; and draw each name and cheep in its own <bdi>.",
        "solution",
        "Text that shows what was written",
        tests=(
            "test_text_that_shows_something_else_is_refused_with_its_reason_and_not_stored",
            "test_real_text_in_many_scripts_is_stored_in_nfc_and_trimmed",
            "test_an_accent_sent_apart_comes_back_joined_to_its_letter",
            "test_the_limits_count_the_characters_a_reader_sees",
            "test_any_text_is_refused_with_a_reason_or_stored_exactly_as_written",
            "test_a_right_to_left_name_does_not_turn_a_live_cheep_around",
            "test_a_right_to_left_name_does_not_turn_a_cheep_around_on_the_page_the_server_draws",
            "test_a_run_of_spaces_is_stored_as_one_so_that_no_cheep_fakes_a_line_of_its_own",
        ),
    ),
    Hint(
        "post-limits",
        "POST /api/cheep should answer every malformed body with 400 and a reason, and a "
        "body over 16 KiB with 413 (MAX_CONTENT_LENGTH), never with a 500; a request the server "
        "cannot read as HTTP gets its 4xx and a reason from the handler, with no traceback.",
        "solution",
        "POST: a reason for every refusal, and at most 16 KiB",
        tests=(
            "test_a_malformed_post_gets_a_400_with_a_reason_never_a_500",
            "test_a_post_of_a_megabyte_is_refused_unread_with_413",
            "test_a_broken_request_gets_its_4xx_with_a_reason_and_no_traceback",
        ),
    ),
    Hint(
        "origin",
        "Only the app's own pages may open the socket: the handler must refuse another "
        "Origin with 403 before the handshake (the view runs too late).",
        "solution",
        "Only our own pages may open the socket",
        tests=(
            "test_a_socket_opened_by_a_page_of_another_site_is_refused_with_403",
            "test_the_refusal_names_the_origin",
            "test_pages_of_the_app_itself_and_programs_without_an_origin_may_connect",
            "test_allowed_origins_can_be_named_in_cheeper_allowed_origins",
            "test_a_refused_socket_disturbs_no_one",
            "test_a_page_on_another_site_cannot_open_the_socket_in_a_real_browser",
        ),
    ),
    Hint(
        "headers",
        "Every answer should carry a Content-Security-Policy that allows only the app's own "
        "scripts and sockets, and X-Content-Type-Options: nosniff (an after_request function).",
        "solution",
        "Two headers on every answer",
        tests=("test_every_response_allows_only_the_apps_own_scripts_and_sockets",),
    ),
    Hint(
        "per-address",
        "The handler should refuse a socket with 429 when its address already has "
        "CHEEPER_SOCKETS_PER_ADDRESS open (20 unless set).",
        "solution",
        "At most 20 sockets from one address",
        tests=(
            "test_more_sockets_from_one_address_than_allowed_are_refused_with_429",
            "test_behind_a_trusted_proxy_the_limit_counts_each_person_and_not_the_proxy",
            "test_a_forwarded_address_from_anyone_else_is_ignored",
        ),
    ),
    Hint(
        "outbox",
        "Broadcasting must never wait on one socket: write without waiting (a timeout of 0.0), "
        "keep what the socket does not take in an outbox of at most 100 frames that a greenlet "
        "sends, and drop a page whose outbox is full.",
        "solution",
        "Slow pages: an outbox each",
        tests=(
            "test_a_client_that_stops_reading_holds_up_no_one_and_is_dropped",
            "test_many_clients_cheeping_at_once_lose_nothing_and_all_see_one_order",
        ),
    ),
    Hint(
        "pings",
        "Ping every open socket, on /ws and /echo alike, every CHEEPER_PING_SECONDS, and drop "
        "one that has sent nothing, not even a pong, for two of those.",
        "solution",
        "Vanished pages: pings",
        tests=("test_a_client_that_stops_answering_pings_is_dropped_and_one_that_answers_stays",),
    ),
    Hint(
        "goodbye",
        "On Ctrl+C and on SIGTERM, send every socket a close frame with code 1001, then stop the server; no traceback.",
        "solution",
        "Stopping: a goodbye with 1001",
        tests=("test_stopping_the_server_closes_every_socket_with_1001_and_no_traceback",),
    ),
    Hint(
        "instructor",
        "Only the browser that opened the link printed at start may act as the instructor: it has an "
        "HttpOnly, SameSite=Strict cookie, and each of its actions comes from the app's own Origin; anyone "
        'else gets 403. A removal reaches every page as a "removed" message, and a page that was away '
        "catches up with GET /api/removals?since=<seq>; a report to POST /api/progress is checked like a cheep.",
        "solution",
        "The instructor's hands",
        tests=(
            "test_the_printed_link_makes_a_browser_the_instructor_with_a_cookie_no_script_or_other_site_gets",
            "test_a_wrong_key_is_refused_and_guessing_soon_gets_429",
            "test_nobody_else_may_act_or_see_the_board_over_http",
            "test_nobody_else_may_act_over_the_socket",
            "test_a_removed_cheep_leaves_every_page_and_is_never_shown_again",
            "test_removing_what_is_not_there_says_so",
            "test_a_muted_name_or_address_is_refused_with_a_calm_sentence_and_others_are_not",
            "test_starting_afresh_empties_every_page_and_ids_go_on",
            "test_the_instructor_hears_each_report_and_nobody_else_does",
            "test_a_bogus_report_is_refused_with_a_reason",
            "test_a_flood_of_reports_is_slowed_with_429",
            "test_a_cheeps_db_made_before_removals_keeps_every_cheep",
            "test_the_instructor_removes_a_cheep_and_every_page_loses_it_without_reloading",
            "test_a_page_that_was_away_when_a_cheep_was_removed_never_shows_it_again",
            "test_a_muted_name_is_refused_and_starting_afresh_empties_every_page",
            "test_the_board_puts_the_stuck_first_and_shows_any_report_as_text",
            "test_the_instructors_feed_and_board_have_no_serious_accessibility_problems",
        ),
    ),
    # Going further: typing (docs/going-further-typing.md)
    Hint(
        "typing-relay",
        'A typing message is not a cheep. In the receive loop, look at its "type" first: send a typing '
        "message on to every socket except the one it came from, then continue, so that it never reaches "
        "save_cheep().",
        "typing",
        "Passing it on, storing nothing",
        tests=(
            "test_typing_reaches_every_other_socket_and_never_comes_back_to_the_typist",
            "test_a_typing_message_is_never_stored",
        ),
    ),
    Hint(
        "typing-name",
        "A typing message whose name is missing, not text, empty or longer than the form's 32 characters "
        "must reach nobody, and must not break the loop. Check the name before anything else; when it is "
        "bad, skip the message quietly, as the loop skips one that is not JSON. Send on a new message, "
        "built from the name you checked.",
        "typing",
        "A name worth showing",
        tests=("test_a_typing_message_without_a_proper_name_reaches_nobody_and_breaks_nothing",),
    ),
    Hint(
        "typing-now-and-then",
        'The page tells the others from the cheep field\'s "input" event: it sends {"type": "typing", '
        '"name": ...} when the name field is filled in and two seconds or more have passed since it last '
        "sent one, and sends nothing in between, however fast the keys come.",
        "typing",
        "Telling the others, now and then",
        tests=("test_typing_fast_tells_the_others_at_most_once_every_two_seconds",),
        evidence=r"sent no typing message on the page's socket|typing messages, not at most"
        r"|sent one typing message only",
    ),
    Hint(
        "typing-line",
        "The line shows who is typing on other pages. onmessage looks at message.type first; each name "
        "that is typing gets a timer of its own, started again by each of its typing messages, that removes "
        "it after a few seconds; that person's cheep removes it at once; and the line is set with .text(), "
        "never .html().",
        "typing",
        "Showing who is typing",
        tests=(
            "test_while_one_window_types_the_others_say_who_is_typing_and_the_typist_does_not",
            "test_the_line_goes_when_the_cheep_of_that_person_arrives",
            "test_the_line_goes_a_few_seconds_after_typing_stops",
            "test_two_people_typing_at_once_are_both_named",
            "test_a_name_made_of_html_shows_as_text_in_the_typing_line",
        ),
    ),
    # Going further: likes (docs/going-further-likes.md)
    Hint(
        "likes-messages",
        "A press of a cheep's ♥ did not reach every page as its new count. The button must be a real "
        '<button> named "Like", with aria-pressed. A press sends {"type": "like", "id": 7}, the id '
        'a number (data-id holds text: Number() it); the server answers {"type": "likes", "id": 7, '
        '"count": 3} to every page, or an error to the sender alone, storing nothing; and each page sets '
        "the count of the cheep with that data-id.",
        "likes",
        "The button and its messages",
        tests=(
            "test_a_like_reaches_every_page_as_the_new_count_of_its_cheep",
            "test_a_bad_like_gets_an_error_and_stores_nothing",
            "test_a_like_in_one_window_raises_the_count_in_every_window",
            "test_the_like_buttons_work_from_the_keyboard_and_have_no_serious_accessibility_problems",
        ),
    ),
    Hint(
        "likes-once",
        "One browser's likes of a cheep counted more than once. Store each like with the browser's key "
        "(from the cookie the page gave it) in a table with UNIQUE (cheep_id, key), and insert with "
        "INSERT OR IGNORE: the same key again is not stored, and the count stays.",
        "likes",
        "One like per browser",
        tests=(
            "test_one_browser_likes_a_cheep_once_however_often_it_presses",
            "test_pressing_like_twice_in_one_window_counts_once",
        ),
    ),
    Hint(
        "likes-drawn",
        "A page drawn by the server does not show the stored likes. Create the likes table with CREATE TABLE "
        "IF NOT EXISTS, and have the query of the page count each cheep's likes, and say whether this "
        "browser's key is among them: the template shows the count and sets aria-pressed from it.",
        "likes",
        "Stored counts, and how a page learns them",
        tests=(
            "test_likes_survive_a_restart_and_each_browser_sees_its_own_pressed",
            "test_a_cheeps_db_from_step_2_gains_likes_and_keeps_every_cheep",
            "test_a_page_loads_with_the_stored_counts_and_its_own_likes_pressed",
        ),
    ),
    # Going further: user-feed (docs/going-further-user-feed.md)
    Hint(
        "user-page",
        "A person's page, /user/<name>, answers 200 with the cheeps whose name is that name and no "
        "other, newest first (SELECT ... WHERE name = ? ORDER BY id DESC); for a name with no cheeps yet, "
        "an empty feed, not a 404; and a link back to /.",
        "user-feed",
        "The page of one person",
        tests=(
            "test_the_page_of_a_name_shows_only_its_cheeps_newest_first",
            "test_a_name_with_no_cheeps_yet_gets_an_empty_page_not_a_404",
            "test_the_page_of_a_name_links_back_to_the_whole_feed",
        ),
    ),
    Hint(
        "names-in-addresses",
        "A name goes into an address percent-encoded, and comes out of it whole: each name in the feed "
        "links to /user/ + the encoded name ({{ cheep.name | urlencode }} in the template, "
        "encodeURIComponent(cheep.name) in cheeper.js), and a name longer than 32 characters is refused "
        "with a reason: a 400 for the page, an error message on its socket.",
        "user-feed",
        "Names in addresses",
        tests=(
            "test_a_name_with_spaces_signs_or_accents_has_its_page_through_percent_encoding",
            "test_each_name_in_the_feed_links_to_the_page_of_that_name",
            "test_a_name_too_long_is_refused_with_a_reason_on_the_page_and_the_socket",
            "test_a_name_in_a_cheep_that_arrives_live_links_to_its_page_which_goes_live",
        ),
    ),
    Hint(
        "socket-per-name",
        "A person's page must get that person's cheeps only. Its script opens the socket at "
        '"/ws?name=" + encodeURIComponent(the name); the server puts that socket in the set of that '
        "name (a dict of sets), not in clients, and sends each cheep to clients and to the set of its "
        "name. /ws with no name still gets every cheep.",
        "user-feed",
        "A set of sockets per name",
        tests=(
            "test_a_live_cheep_reaches_the_sockets_of_its_name_and_no_other",
            "test_a_socket_at_ws_with_no_name_still_gets_every_cheep",
            "test_a_live_cheep_appears_on_the_page_of_its_name_and_not_on_the_page_of_another",
            "test_the_page_of_a_name_with_no_cheeps_yet_goes_live_and_shows_the_first",
        ),
    ),
    Hint(
        "last-page-of-a-name",
        "When a page leaves, take only its own socket out of its name's set, and drop the set "
        "itself only once it is empty: the other pages of that name are still in it.",
        "user-feed",
        "When a page leaves",
        tests=("test_when_one_page_of_a_name_leaves_its_other_pages_still_get_its_cheeps",),
    ),
    # Going further: long-polling (docs/going-further-long-polling.md)
    Hint(
        "long-poll-wait",
        "GET /api/cheeps?since=<id>&wait=1 must answer at once when a newer cheep is stored; otherwise wait "
        "on a gevent Event that the place sending each cheep to this worker's pages sets (so a cheep from "
        "another worker wakes it too), read the storage again when it wakes, and answer [] after "
        "CHEEPER_WAIT_SECONDS. A wait that is not 1, or without since, gets a 400 with a reason.",
        "long-polling",
        "Waking the waiting requests",
        tests=(
            "test_a_waiting_get_answers_at_once_when_a_newer_cheep_is_stored",
            "test_a_waiting_get_answers_as_soon_as_a_cheep_is_sent",
            "test_a_waiting_get_answers_an_empty_list_when_no_cheep_comes_in_time",
            "test_a_wrong_wait_is_refused_with_a_reason",
            "test_a_waiting_get_on_one_worker_answers_when_a_cheep_is_posted_to_another",
        ),
    ),
    Hint(
        "long-poll-limit",
        "A waiting GET holds a page live, as a socket does: count them together against "
        "CHEEPER_SOCKETS_PER_ADDRESS, both when a GET starts to wait and when a socket opens, "
        "and refuse the one past the limit with 429 and a reason.",
        "long-polling",
        "Waiting counts as a socket",
        tests=(
            "test_a_waiting_get_past_the_limit_of_live_pages_for_one_address_is_refused_with_a_reason",
            "test_waiting_gets_count_against_the_limit_of_sockets_for_one_address",
        ),
    ),
    Hint(
        "long-poll-switch",
        "When sockets close before they ever open while a plain GET to the server gets an answer, the page "
        "must switch to long polling: say so in #status, ask with since= the newest id it has, skip ids it "
        "shows already, and POST its cheeps with their keys. A server that is away is no blocked network: "
        "keep trying the socket then.",
        "long-polling",
        "When the page switches",
        tests=(
            "test_on_a_network_that_blocks_websockets_the_page_goes_live_by_long_polling_and_says_so",
            "test_no_cheep_is_lost_or_doubled_when_a_live_page_switches_to_long_polling",
            "test_a_server_that_restarts_is_no_blocked_network_the_page_comes_back_on_a_websocket",
        ),
    ),
    # Going further: rooms (docs/going-further-rooms.md)
    Hint(
        "rooms-one-set",
        "A cheep reached a page of another room. Keep a set of sockets for each room (a dict of sets), "
        "add each socket to the set of the room in its address, and broadcast a cheep only to the set "
        "of its own room. The shared room is the room with the empty name: /ws and /api/cheep are in it.",
        "rooms",
        "One set of sockets per room",
        tests=(
            "test_a_cheep_reaches_only_the_pages_of_its_room",
            "test_the_shared_room_keeps_every_old_address_and_its_cheeps_stay_out_of_the_rooms",
            "test_a_cheep_typed_in_a_room_appears_in_its_windows_and_in_no_other_room",
        ),
    ),
    Hint(
        "rooms-addresses",
        "Everything of a room lives under /r/<room>: its page, its POST (which leads back to /r/<room> "
        "with 303), its catch-up at /r/<room>/api/cheeps (and the Link header's next page stays in the "
        "room), and a link to /rooms on every page. A body without fields, as curl -d sends, is the cheep.",
        "rooms",
        "Addresses",
        tests=(
            "test_a_room_takes_a_cheep_as_a_form_as_json_and_as_plain_text_like_curl_d",
            "test_the_catch_up_of_a_room_stays_in_the_room_page_after_page",
            "test_a_trailing_slash_leads_back_to_the_room_and_there_are_no_sub_rooms",
            "test_every_page_links_to_the_rooms_in_use_with_their_cheep_counts",
            "test_the_page_names_its_room_and_links_to_the_rooms_in_use",
            "test_without_javascript_the_form_posts_into_the_room_and_comes_back_to_it",
            "test_the_page_of_a_room_and_the_list_of_rooms_have_no_serious_accessibility_problems",
        ),
    ),
    Hint(
        "rooms-name",
        "A room whose name breaks the rule must be refused with a 4xx and the rule, everywhere: the page, "
        "the POST, and the socket, whose refusal comes before the handshake, in CheckedHandler.check_request() "
        "(handler.py), next to the Origin check.",
        "rooms",
        "A room's name",
        tests=(
            "test_a_room_name_against_the_rules_is_refused_with_a_reason",
            "test_the_socket_of_a_room_keeps_every_check_of_the_solution_before_the_handshake",
        ),
    ),
    Hint(
        "rooms-migration",
        "A cheep stored before rooms must stay in the shared room: add the room column with "
        "NOT NULL DEFAULT '' (in NEWER_COLUMNS, storage.py), so that every old row reads as the room "
        "with the empty name; a NULL room matches no room at all.",
        "rooms",
        "A column, and a migration",
        tests=(
            "test_a_cheeps_db_made_by_the_solution_keeps_every_cheep_in_the_shared_room",
            "test_cheeps_kept_in_redis_by_the_solution_stay_in_the_shared_room",
            "test_the_cheeps_and_keys_of_a_room_survive_a_restart",
            "test_a_key_is_stored_once_in_a_room_and_a_cheep_of_another_room_cannot_reuse_it",
        ),
    ),
    Hint(
        "rooms-redis",
        "Every function of redis_storage.py must take the same room as its twin in storage.py: one that "
        "did not learn about rooms fails with a TypeError, and a POST with a 500. And relay.py must pass "
        "each cheep's room on, and catch up on every room's cheeps after losing Redis.",
        "rooms",
        "Redis storage and the relay",
        evidence=r"TypeError: (save_cheep|newest_cheeps|cheeps_since|rooms)\(\) (takes|got an unexpected)",
        tests=(
            "test_rooms_work_the_same_with_the_cheeps_in_redis",
            "test_across_two_workers_a_cheep_reaches_only_the_pages_of_its_room_once",
            "test_a_worker_that_missed_a_cheep_of_a_room_catches_up_into_that_room_only",
        ),
    ),
    Hint(
        "rooms-unsent",
        "A page sent a cheep typed in another room. Name each room's lists of unsent cheeps apart "
        "(put the room in the localStorage key), and take over only the lists of the page's own room.",
        "rooms",
        "A cheep not sent yet belongs to its room",
        tests=("test_a_cheep_left_unsent_in_a_room_is_sent_by_the_next_page_of_that_room_and_no_other",),
    ),
]

UNKNOWN = Hint(
    "unknown",
    "Run the check again with VERBOSE=1 to see everything the test saw.",
    "step0_request_response",
    "",
)


def hint_for(test, printed, output=""):
    """The hint for a failed test, given everything its failure printed. Evidence in
    what the app itself printed (`output`: a traceback, say) comes first: a test that
    failed because of it may also print a symptom that another hint knows."""
    for text in (output, printed):
        for hint in HINTS:
            if hint.seen_in(text):
                return hint
    for hint in HINTS:
        if test in hint.tests:
            return hint
    return UNKNOWN


@cache
def lesson_sections(stage):
    """The headings of a stage's lesson page, in order (code listings left out)."""
    headings, in_code = [], False
    for line in (ROOT / LESSONS[stage]).read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_code = not in_code
        elif line.startswith("#") and not in_code:
            headings.append(line.lstrip("#").strip())
    return headings


def lesson_order(hint):
    """Where the lesson explains the hint's cause: (stage, place on its page)."""
    if hint is UNKNOWN:
        return (len(LESSONS), 0)
    return (hint.stage_number, lesson_sections(hint.stage_number).index(hint.section))
