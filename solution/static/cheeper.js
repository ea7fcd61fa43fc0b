// Cheeper's live feed: send cheeps over a WebSocket, show every cheep as it
// arrives, and when the connection drops, reconnect and catch up by itself.
$(function () {
  const $feed = $("#feed");
  const $status = $("#status");
  const $error = $("#error");
  const firstRetryDelay = 1000; // milliseconds
  const longestRetryDelay = 10000;
  let retryDelay = firstRetryDelay;
  let socket = null;

  function socketUrl() {
    // Back to the host and port this page came from; wss: when the page is https:.
    const protocol = location.protocol === "https:" ? "wss:" : "ws:";
    return protocol + "//" + location.host + "/ws";
  }

  function setStatus(state, text) {
    $status.attr("class", state).text(text);
  }

  function renderCheep(cheep) {
    // .text() shows a name or cheep as plain text: "<script>" stays words on the page.
    return $("<li class='cheep'>").attr("data-id", cheep.id).append(
      $("<span class='name'>").text(cheep.name),
      " ",
      $("<span class='text'>").text(cheep.cheep),
      $("<time>").attr("datetime", cheep.time).text(cheep.time.slice(0, 16).replace("T", " ") + " UTC")
    );
  }

  // The feed stays in id order, newest first, and shows each cheep once, even
  // when a live cheep and a caught-up one arrive in either order.
  function showCheep(cheep) {
    const ids = $feed.children().map(function () { return Number($(this).attr("data-id")); }).get();
    if (ids.includes(cheep.id)) {
      return;
    }
    const older = ids.findIndex(function (id) { return id < cheep.id; });
    if (older === -1) {
      $feed.append(renderCheep(cheep));
    } else {
      $feed.children().eq(older).before(renderCheep(cheep));
    }
  }

  function newestId() {
    return Number($feed.children().first().attr("data-id")) || 0;
  }

  function catchUp() {
    $.getJSON("/api/cheeps", { since: newestId() }).done(function (cheeps) {
      cheeps.forEach(showCheep);
    });
  }

  function connect() {
    socket = new WebSocket(socketUrl());

    socket.onopen = function () {
      retryDelay = firstRetryDelay;
      setStatus("live", "Live: new cheeps appear as they are sent.");
      catchUp(); // what was sent while this page was loading or away
    };

    socket.onmessage = function (event) {
      const message = JSON.parse(event.data);
      if (message.type === "cheep") {
        showCheep(message);
      } else if (message.type === "error") {
        $error.text(message.message);
      }
    };

    socket.onclose = function (event) {
      // The server may say why, as when it restarts: "Cheeper is restarting."
      setStatus("reconnecting", (event.reason || "Disconnected from the live feed.") + " Reconnecting…");
      // Wait longer after each failure, and a random part of it, so that a
      // room full of pages does not knock on a restarted server all at once.
      setTimeout(connect, retryDelay / 2 + Math.random() * retryDelay / 2);
      retryDelay = Math.min(retryDelay * 2, longestRetryDelay);
    };
  }

  // Enter in a field and the Send button both submit the form.
  $("#cheep-form").on("submit", function (event) {
    event.preventDefault(); // no page reload: the cheep goes over the socket instead
    const name = $("#name").val().trim();
    const cheep = $("#cheep").val().trim();
    if (!name || !cheep) {
      $error.text("Write your name and a cheep first.");
    } else if (socket.readyState !== WebSocket.OPEN) {
      $error.text("Not sent: the live feed is reconnecting. Try again in a moment.");
    } else {
      socket.send(JSON.stringify({ type: "cheep", name: name, cheep: cheep }));
      $("#cheep").val("");
      $error.text("");
    }
  });

  connect();
});
