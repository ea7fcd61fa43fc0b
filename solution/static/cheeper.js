// Cheeper's live feed: send cheeps over a WebSocket, show every cheep as it
// arrives, and when the connection drops, reconnect and catch up by itself.
// A cheep typed is never lost: it waits on the page, "sending…", until the
// server has stored it, and goes again on every new socket until then.
$(function () {
  const $feed = $("#feed");
  const $unsent = $("#unsent");
  const $status = $("#status");
  const $error = $("#error");
  const firstRetryDelay = 1000; // milliseconds
  const longestRetryDelay = 10000;
  const answerTime = 5000; // a socket that answers nothing for this long is dead
  const quietTime = 15000; // after this long with nothing heard, the page asks: a ping
  let retryDelay = firstRetryDelay;
  let socket = null;
  let lastHeard = Date.now();
  let unansweredSince = null; // when the page sent something and has heard nothing since

  function socketUrl() {
    // Back to the host and port this page came from; wss: when the page is https:.
    const protocol = location.protocol === "https:" ? "wss:" : "ws:";
    return protocol + "//" + location.host + "/ws";
  }

  function newKey() {
    // 16 random bytes as 32 hex digits. (crypto.randomUUID() would do, but browsers
    // offer it only on https: pages and localhost, not on http://<a laptop's address>.)
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, function (byte) { return byte.toString(16).padStart(2, "0"); }).join("");
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

  // The cheeps this tab typed that the server has not stored yet live in
  // localStorage, so that a reload, a crash or a closed tab loses none. Each
  // tab keeps a list of its own, named by an id that sessionStorage keeps for
  // the tab across reloads and when a closed tab is reopened. A tab that goes
  // away marks its list "left", and the next Cheeper page that opens takes it
  // over: two open tabs never send the same cheeps.
  const listPrefix = "cheeper-unsent-";
  const myList = listPrefix + tabId();

  function tabId() {
    const id = sessionStorage.getItem("cheeper-tab") || newKey();
    sessionStorage.setItem("cheeper-tab", id);
    return id;
  }

  function readList(name) {
    try {
      return JSON.parse(localStorage.getItem(name)) || { cheeps: [] };
    } catch (error) {
      return { cheeps: [] }; // not ours, or damaged: start afresh
    }
  }

  function unsentCheeps() {
    return readList(myList).cheeps;
  }

  function keepUnsent(cheeps, left) {
    if (cheeps.length) {
      localStorage.setItem(myList, JSON.stringify({ cheeps: cheeps, left: Boolean(left) }));
    } else {
      localStorage.removeItem(myList);
    }
  }

  function takeOverLeftLists() {
    Object.keys(localStorage).forEach(function (name) {
      if (name.startsWith(listPrefix) && name !== myList && readList(name).left) {
        const theirs = readList(name).cheeps;
        localStorage.removeItem(name);
        keepUnsent(unsentCheeps().concat(theirs));
      }
    });
  }

  function renderUnsent(cheep) {
    // "Sending…" in words, not only a paler colour: everyone can tell it is not stored yet.
    return $("<li class='cheep sending'>").attr("data-key", cheep.key).append(
      $("<span class='name'>").text(cheep.name),
      " ",
      $("<span class='text'>").text(cheep.cheep),
      $("<span class='state'>").text("Sending…")
    );
  }

  function showUnsent() {
    $unsent.empty();
    unsentCheeps().forEach(function (cheep) {
      $unsent.prepend(renderUnsent(cheep)); // the newest on top
    });
  }

  // Stored (it came back with its key) or refused: it is not unsent any more.
  // Returns the cheep, or undefined when this tab had no cheep with that key.
  function forgetUnsent(key) {
    const cheeps = unsentCheeps();
    const cheep = cheeps.find(function (unsent) { return unsent.key === key; });
    keepUnsent(cheeps.filter(function (unsent) { return unsent.key !== key; }));
    $unsent.children().filter(function () { return $(this).attr("data-key") === key; }).remove();
    return cheep;
  }

  // The feed stays in id order, newest first, and shows each cheep once, even
  // when a live cheep and a caught-up one arrive in either order.
  function showCheep(cheep) {
    if (cheep.key) {
      forgetUnsent(cheep.key); // it is stored: no longer "sending…"
    }
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

  function refused(error) {
    // A refused cheep is never sent again: say why, and give its text back to edit.
    const cheep = error.key && forgetUnsent(error.key);
    if (cheep && !$("#cheep").val()) {
      $("#cheep").val(cheep.cheep);
    }
    $error.text(error.message);
  }

  function newestId() {
    return Number($feed.children().first().attr("data-id")) || 0;
  }

  function catchUp() {
    $.getJSON("/api/cheeps", { since: newestId() }).done(function (cheeps) {
      cheeps.forEach(showCheep);
    });
  }

  function send(message) {
    socket.send(JSON.stringify(message));
    unansweredSince = unansweredSince || Date.now();
  }

  function heard() {
    lastHeard = Date.now();
    unansweredSince = null;
  }

  function connect() {
    socket = new WebSocket(socketUrl());

    socket.onopen = function () {
      retryDelay = firstRetryDelay;
      heard();
      setStatus("live", "Live: new cheeps appear as they are sent.");
      unsentCheeps().forEach(send); // in the order typed; one stored already comes back at once
      catchUp(); // what was sent while this page was loading or away
    };

    socket.onmessage = function (event) {
      heard();
      const message = JSON.parse(event.data);
      if (message.type === "cheep") {
        showCheep(message);
      } else if (message.type === "error") {
        refused(message);
      } // "pong", the answer to a ping: hearing it was the point
    };

    socket.onclose = function (event) {
      // The server may say why, as when it restarts: "Cheeper is restarting."
      reconnectSoon(event.reason || "Disconnected from the live feed.");
    };
  }

  function reconnectSoon(reason) {
    setStatus("reconnecting", reason + " Reconnecting…");
    // Wait longer after each failure, and a random part of it, so that a
    // room full of pages does not knock on a restarted server all at once.
    setTimeout(connect, retryDelay / 2 + Math.random() * retryDelay / 2);
    retryDelay = Math.min(retryDelay * 2, longestRetryDelay);
  }

  // A connection can die without a close event: Wi-Fi gone, or a network that
  // silently drops everything. So every second the page checks: nothing heard
  // for a while, it sends a ping; something sent and nothing heard for 5 s,
  // it stops waiting for that socket and opens a new one.
  function watchConnection() {
    if (socket.readyState !== WebSocket.OPEN) {
      return;
    }
    if (unansweredSince && Date.now() - unansweredSince > answerTime) {
      // Leave this socket without waiting for its close event: on a dead connection it may never come.
      socket.onclose = null;
      socket.onmessage = null;
      socket.close();
      reconnectSoon("No answer from the live feed.");
    } else if (Date.now() - lastHeard > quietTime) {
      send({ type: "ping" });
    }
  }

  // Enter in a field and the Send button both submit the form.
  $("#cheep-form").on("submit", function (event) {
    event.preventDefault(); // no page reload: the cheep goes over the socket instead
    const name = $("#name").val().trim();
    const text = $("#cheep").val().trim();
    if (!name || !text) {
      $error.text("Write your name and a cheep first.");
      return;
    }
    // The key makes the cheep safe to send again: the server stores each key once.
    const cheep = { type: "cheep", name: name, cheep: text, key: newKey() };
    keepUnsent(unsentCheeps().concat([cheep]));
    $unsent.prepend(renderUnsent(cheep));
    if (socket.readyState === WebSocket.OPEN) {
      send(cheep);
    } // otherwise it goes when the socket opens
    $("#cheep").val("");
    $error.text("");
  });

  // Leaving (a reload, a closed tab): mark the list left. Back: it is this tab's again.
  $(window).on("pagehide", function () { keepUnsent(unsentCheeps(), true); });
  $(window).on("pageshow", function () { keepUnsent(unsentCheeps()); showUnsent(); });

  keepUnsent(unsentCheeps()); // this tab's list again, after a reload
  takeOverLeftLists();
  $feed.children("[data-key]").each(function () { forgetUnsent($(this).attr("data-key")); }); // stored already
  showUnsent();
  connect();
  setInterval(watchConnection, 1000);
});
