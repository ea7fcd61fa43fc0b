// Cheeper's live feed: send cheeps over a WebSocket, show every cheep as it
// arrives, and when the connection drops, reconnect and catch up by itself.
// A cheep typed is never lost: it waits on the page, "Sending…", until the
// server has stored it, and goes again on every new socket until then.
$(() => {
  const $feed = $("#feed");
  $feed.find("time").each((_, time) => showTime($(time), time.dateTime)); // the ones the server drew
  if ($feed.is("[data-older]")) {
    return; // a page of older cheeps (/?before=<id>) is for reading: only its times change
  }
  const $unsent = $("#unsent");
  const $status = $("#status");
  const $error = $("#error");
  const firstRetryDelay = 1000; // milliseconds
  const longestRetryDelay = 10000;
  const openTime = 10000; // a socket that has not opened after this long never will
  const answerTime = 5000; // an open socket that leaves the page waiting this long is dead
  const quietTime = 15000; // after this long with nothing heard, the page asks: a ping
  const tryAgainTime = 2000; // before sending again a cheep the server could not take yet
  let retryDelay = firstRetryDelay;
  let socket = null;
  let lastHeard = Date.now();
  let awaiting = []; // what this socket was sent and has not answered: keys, and "ping"
  let waitingSince = null; // since when the page has waited for this socket to open or answer

  function socketUrl() {
    // Back to the host and port this page came from; wss: when the page is https:.
    const protocol = location.protocol === "https:" ? "wss:" : "ws:";
    return `${protocol}//${location.host}/ws`;
  }

  function newKey() {
    // 16 random bytes as 32 hex digits. (crypto.randomUUID() would do, but browsers
    // offer it only on https: pages and localhost, not on http://<a laptop's address>.)
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  }

  function setStatus(state, text) {
    $status.attr("class", state).text(text);
  }

  // A cheep's markup is written once, in index.html: the server draws the feed
  // with it, and leaves an empty copy in <template id="cheep-template">. The
  // page copies that for each new cheep and fills it in. .text() puts a name or
  // cheep in as plain text: "<script>" stays words on the page.
  const cheepTemplate = document.getElementById("cheep-template").content.firstElementChild;

  function newCheepItem(cheep) {
    const $item = $(cheepTemplate.cloneNode(true));
    $item.children(".name").text(cheep.name);
    $item.children(".text").text(cheep.cheep);
    return $item;
  }

  function renderCheep(cheep) {
    const $item = newCheepItem(cheep).attr("data-id", cheep.id);
    showTime($item.children("time"), cheep.time);
    return instructor ? $item.append(instructorTools(cheep.name)) : $item;
  }

  function showTime($time, time) {
    // "2026-05-04T09:30:12+00:00", as stored, shows as "2026-05-04 09:30 UTC".
    $time.attr("datetime", time).text(`${time.slice(0, 16).replace("T", " ")} UTC`);
  }

  // The cheeps this tab typed that the server has not stored yet live in
  // localStorage, so that a reload, a crash or a closed tab loses none. Each
  // tab keeps a list of its own, named by an id that sessionStorage keeps for
  // the tab across reloads and when a closed tab is reopened. A tab renews the
  // time `seen` on its list every second while it is open, and sets it to 0
  // when it goes away. The next Cheeper page that opens takes over the lists
  // of tabs that have gone, and sends them.
  const local = storageOrMemory("localStorage");
  const session = storageOrMemory("sessionStorage");
  const listPrefix = "cheeper-unsent-";
  const myList = listPrefix + tabId();
  const goneAfter = 90000; // milliseconds: longer than a tab in the background waits between timers

  function storageOrMemory(name) {
    // With site data blocked, the browser refuses its storage: keep the lists in memory then.
    try {
      window[name].getItem("cheeper");
      return window[name];
    } catch (error) {
      const items = new Map();
      return {
        getItem: (key) => (items.has(key) ? items.get(key) : null),
        setItem: (key, value) => items.set(key, String(value)),
        removeItem: (key) => items.delete(key),
        key: (index) => Array.from(items.keys())[index],
        get length() { return items.size; },
      };
    }
  }

  function tabId() {
    const id = session.getItem("cheeper-tab") || newKey();
    session.setItem("cheeper-tab", id);
    return id;
  }

  function readList(name) {
    try {
      const list = JSON.parse(local.getItem(name));
      if (list && Array.isArray(list.cheeps)) {
        return list;
      }
    } catch (error) {
      // not valid JSON: damaged, so start afresh below
    }
    return { cheeps: [], seen: 0 };
  }

  function unsentCheeps() {
    return readList(myList).cheeps;
  }

  function saveUnsent(cheeps, seen = Date.now()) {
    if (cheeps.length) {
      local.setItem(myList, JSON.stringify({ cheeps: cheeps, seen: seen }));
    } else {
      local.removeItem(myList);
    }
  }

  function takeOverListsOfTabsGone() {
    const names = [];
    for (let index = 0; index < local.length; index++) {
      names.push(local.key(index));
    }
    names.forEach((name) => {
      if (name.startsWith(listPrefix) && name !== myList && Date.now() - readList(name).seen > goneAfter) {
        const theirs = readList(name).cheeps;
        local.removeItem(name);
        saveUnsent(unsentCheeps().concat(theirs));
      }
    });
  }

  function renderUnsent(cheep) {
    // Not stored yet, so no id and no time: "Sending…" in words where the time
    // goes, not only a paler colour, so that everyone can tell.
    const $item = newCheepItem(cheep).removeAttr("data-id").addClass("sending").attr("data-key", cheep.key);
    $item.children("time").replaceWith($("<span class='state'>").text("Sending…"));
    return $item;
  }

  function showUnsent() {
    $unsent.children(".sending").remove();
    unsentCheeps().forEach((cheep) => {
      $unsent.prepend(renderUnsent(cheep)); // the newest on top
    });
  }

  // Stored, or refused for good: no longer unsent. Returns the cheep, or
  // undefined when this tab's list has no cheep with that key.
  function forgetUnsent(key) {
    const cheeps = unsentCheeps();
    const cheep = cheeps.find((unsent) => unsent.key === key);
    if (cheep) {
      saveUnsent(cheeps.filter((unsent) => unsent.key !== key));
    }
    // Its line goes either way: another tab may have taken it off the list first.
    $unsent.children(".sending").filter((index, item) => $(item).attr("data-key") === key).remove();
    return cheep;
  }

  function showNotSent(key, reason) {
    // A cheep refused for good is never sent again. It stays in view, with the
    // reason and a button that puts its text back in the form, to fix and resend.
    const cheep = forgetUnsent(key);
    if (!cheep) {
      return;
    }
    const $item = renderUnsent(cheep).attr("class", "cheep not-sent");
    const $edit = $("<button type='button' class='edit'>Edit</button>").on("click", () => {
      $("#name").val(cheep.name);
      $("#cheep").val(cheep.cheep).trigger("focus");
      $item.remove();
    });
    $item.find(".state").text(`Not sent: ${reason} `).append($edit);
    $unsent.prepend($item);
  }

  // The feed stays in id order, newest first, and shows each cheep once, even
  // when a live cheep and a caught-up one arrive in either order. However long
  // it is, one more cheep costs the same: the page never reads the whole feed.
  const feed = $feed[0]; // the element itself: its first and last child, and their count, come at once
  const instructor = $feed.is("[data-instructor]"); // this browser opened the instructor's link
  const mostShown = 200; // cheeps kept on the page; older ones stay a click away, in "Show older cheeps"
  let keep = mostShown; // grows by each older page the reader asks for
  let waiting = []; // cheeps that arrived and are not drawn yet
  const shownOrWaiting = new Set($feed.children().map((index, item) => idOf(item)).get()); // their ids
  let newestSeen = feed.firstElementChild ? idOf(feed.firstElementChild) : 0;
  let oldestShown = 0; // cheeps older than this are not on the page (0: none are left out)
  showOlderLink($("#older-cheeps").prop("hidden") ? 0 : idOf(feed.lastElementChild));

  function idOf(item) {
    return Number(item.getAttribute("data-id"));
  }

  function showCheep(cheep) {
    if (cheep.key) {
      answered(cheep.key);
      if (forgetUnsent(cheep.key)) {
        $error.text(""); // this page's cheep is stored: any "sending again" is over
      }
    }
    if (shownOrWaiting.has(cheep.id) || cheep.id < oldestShown || cheep.id <= clearedUpTo) {
      return; // on the page already (or removed), older than the page shows, or from before a fresh start
    }
    shownOrWaiting.add(cheep.id);
    newestSeen = Math.max(newestSeen, cheep.id);
    waiting.push(cheep);
    if (waiting.length > 2 * keep) {
      forgetOldestWaiting(); // a tab in the background draws nothing: it keeps only what it would show
    }
    if (waiting.length === 1) {
      // Drawn just before the browser next paints: a burst of 100 cheeps is
      // sorted, put on the page and trimmed once, not 100 times.
      requestAnimationFrame(drawWaiting);
    }
  }

  function forgetOldestWaiting() {
    waiting.sort(newestFirst);
    waiting.splice(keep).forEach((cheep) => shownOrWaiting.delete(cheep.id));
    // The newest `keep` are left: the page will show them, and "Show older cheeps" the rest.
    const oldestKept = waiting[waiting.length - 1].id;
    while (feed.lastElementChild && idOf(feed.lastElementChild) < oldestKept) {
      removeOldest();
    }
    showOlderLink(oldestKept);
  }

  function drawWaiting() {
    const cheeps = waiting.sort(newestFirst);
    waiting = [];
    const newest = feed.firstElementChild ? idOf(feed.firstElementChild) : 0;
    const above = document.createDocumentFragment(); // the new ones, put on top all at once
    cheeps.forEach((cheep) => {
      if (cheep.id < oldestShown) { // the oldest were dropped meanwhile: "Show older cheeps" has it
        shownOrWaiting.delete(cheep.id);
      } else if (cheep.id > newest) {
        above.append(renderCheep(cheep)[0]);
      } else {
        insertInOrder(renderCheep(cheep)[0], cheep.id);
      }
    });
    feed.prepend(above);
    dropOldest();
  }

  function newestFirst(a, b) {
    return b.id - a.id; // for sort(): the higher id first
  }

  function insertInOrder(item, id) {
    // A cheep that arrived late (a caught-up one after a live one): its place
    // is near the top, so the search stops after a few cheeps.
    let next = feed.firstElementChild;
    while (next && idOf(next) > id) {
      next = next.nextElementSibling;
    }
    feed.insertBefore(item, next);
  }

  function dropOldest() {
    if (feed.children.length <= keep) {
      return;
    }
    while (feed.children.length > keep) {
      removeOldest();
    }
    showOlderLink(idOf(feed.lastElementChild));
  }

  function removeOldest() {
    shownOrWaiting.delete(idOf(feed.lastElementChild));
    feed.lastElementChild.remove();
  }

  // The link below the feed: /?before=<id> shows the older cheeps as a page of
  // their own; with this script, they come in place instead.
  function showOlderLink(oldest) {
    oldestShown = oldest;
    $("#older").attr("href", `/?before=${oldest}`);
    $("#older-cheeps").prop("hidden", !oldest);
  }

  const olderFailed = "The older cheeps could not be loaded. Try again in a moment.";

  $("#older").on("click", (event) => {
    event.preventDefault();
    showOlder();
  });

  function showOlder() {
    const $link = $("#older");
    if ($link.attr("aria-disabled")) {
      return; // that page is on its way already
    }
    $link.attr("aria-disabled", "true");
    const before = oldestShown;
    keep = Infinity; // nothing leaves the page until they come: they go just below its oldest
    $.getJSON("/api/cheeps", { before: before }).done((cheeps, status, request) => {
      if (oldestShown !== before) {
        return; // the page started again from the newest cheeps meanwhile
      }
      cheeps.forEach((cheep) => { // newest first, and all older than the page
        if (!shownOrWaiting.has(cheep.id)) {
          shownOrWaiting.add(cheep.id);
          feed.append(renderCheep(cheep)[0]);
        }
      });
      // A Link header: there are older ones still.
      showOlderLink(request.getResponseHeader("Link") && feed.lastElementChild ? idOf(feed.lastElementChild) : 0);
      if ($error.text() === olderFailed) {
        $error.text("");
      }
    }).fail(() => {
      $error.text(olderFailed);
    }).always(() => {
      // The page holds this many from now on: each new cheep takes the oldest off.
      keep = Math.max(mostShown, feed.children.length);
      $link.removeAttr("aria-disabled");
    });
  }

  // What the instructor removed: a cheep, or every one so far (start afresh).
  // Each removal has a number, seq; a page that was away asks for the ones
  // after the last it heard of, as it asks for the cheeps it missed.
  let newestRemoval = Number($feed.attr("data-removals"));
  let clearedUpTo = 0; // cheeps up to this id are gone: the instructor started afresh

  function heardRemoval(removal) {
    newestRemoval = Math.max(newestRemoval, removal.seq);
    if (removal.type === "removed") {
      shownOrWaiting.add(removal.id); // so that it is never shown, even if it arrives later
      waiting = waiting.filter((cheep) => cheep.id !== removal.id);
      $feed.children(`[data-id='${removal.id}']`).remove();
    } else { // "cleared"
      clearedUpTo = Math.max(clearedUpTo, removal.up_to);
      waiting = waiting.filter((cheep) => cheep.id > removal.up_to);
      while (feed.lastElementChild && idOf(feed.lastElementChild) <= removal.up_to) {
        removeOldest();
      }
      if (oldestShown && oldestShown <= removal.up_to + 1) {
        showOlderLink(0); // every older cheep is gone too
      }
      if (instructor) { // a new workshop starts with nobody muted
        muted.name = {};
        muted.address = {};
        showMuted();
      }
    }
  }

  function refused(error) {
    answered(error.key);
    if (error.retry) {
      // Too fast, or the storage away for a moment: the same cheep may go through soon.
      $error.text(`${error.message} It is sent again in a moment.`);
      setTimeout(() => sendAgain(error.key), tryAgainTime);
    } else {
      $error.text(error.message);
      showNotSent(error.key, error.message);
    }
  }

  function sendAgain(key) {
    const cheep = unsentCheeps().find((unsent) => unsent.key === key);
    if (cheep && socket.readyState === WebSocket.OPEN) {
      send(cheep);
    } // otherwise it is stored already, or it goes when the next socket opens
  }

  // A catch-up that fails leaves a gap in the feed: the page says so, until a
  // later one (after the next reconnect) works.
  const catchUpFailed = "The page could not catch up on what it missed. Reload it to see every cheep.";

  function catchUp() {
    $.getJSON("/api/removals", { since: newestRemoval })
      .done((removals) => removals.forEach(heardRemoval))
      .fail(() => $error.text(catchUpFailed));
    $.getJSON("/api/cheeps", { since: newestSeen })
      .done((cheeps, status, request) => {
        if (request.getResponseHeader("Link")) {
          startFromNewest(); // more than a page missed: no use downloading them all
        } else {
          cheeps.forEach(showCheep);
          caughtUp();
        }
      })
      .fail(() => $error.text(catchUpFailed));
  }

  function startFromNewest() {
    $.getJSON("/api/cheeps") // the newest page, newest first
      .done((cheeps, status, request) => {
        const oldest = cheeps.length ? cheeps[cheeps.length - 1].id : 0;
        // Everything older than this page leaves it: below the page, cheeps are
        // missing, and "Show older cheeps" brings them.
        while (feed.lastElementChild && idOf(feed.lastElementChild) < oldest) {
          removeOldest();
        }
        keep = mostShown;
        showOlderLink(request.getResponseHeader("Link") ? oldest : 0);
        cheeps.forEach(showCheep);
        caughtUp();
      })
      .fail(() => $error.text(catchUpFailed));
  }

  function caughtUp() {
    if ($error.text() === catchUpFailed) {
      $error.text("");
    }
  }

  function send(message) {
    socket.send(JSON.stringify(message));
    awaiting.push(message.key || "ping");
    waitingSince = waitingSince || Date.now();
  }

  function answered(what) {
    if (!awaiting.includes(what)) {
      return; // not sent on this socket: a cheep of another tab's, say
    }
    awaiting = awaiting.filter((waiting) => waiting !== what);
    // An answer: the connection works. Whatever is left gets its own time to come back.
    waitingSince = awaiting.length ? Date.now() : null;
  }

  function connect() {
    socket = new WebSocket(socketUrl());
    awaiting = [];
    waitingSince = Date.now(); // for the socket to open

    socket.onopen = () => {
      retryDelay = firstRetryDelay;
      lastHeard = Date.now();
      waitingSince = null;
      setStatus("live", "Live: new cheeps appear as they are sent.");
      unsentCheeps().forEach(send); // in the order typed; one stored already comes back at once
      catchUp(); // what was sent while this page was loading or away
    };

    socket.onmessage = (event) => {
      lastHeard = Date.now();
      heard(JSON.parse(event.data));
    };

    socket.onclose = (event) => {
      // "Message too big". The server answers a socket's messages in order, so it
      // was the first one sent and not answered. Sending it again would only close
      // the next socket too.
      const tooBig = awaiting.find((waiting) => waiting !== "ping");
      if (event.code === 1009 && tooBig) {
        showNotSent(tooBig, event.reason);
      }
      // The server may say why, as when it restarts: "Cheeper is restarting."
      reconnectSoon(event.reason || "Disconnected from the live feed.");
    };
  }

  function heard(message) {
    switch (message.type) {
      case "cheep":
        showCheep(message);
        break;
      case "error":
        refused(message);
        break;
      case "pong":
        answered("ping");
        break;
      case "removed":
      case "cleared":
        heardRemoval(message);
        break;
      case "muted":
      case "unmuted":
        heardMute(message);
        break;
      default:
        break; // a type this page does not know, from a newer server say: it leaves it alone
    }
  }

  function reconnectSoon(reason) {
    waitingSince = null; // for this socket: the next one has its own time
    setStatus("reconnecting", `${reason} Reconnecting…`);
    // Wait longer after each failure, and a random part of it, so that a
    // room full of pages does not knock on a restarted server all at once.
    const pause = retryDelay * randomBetween(0.5, 1);
    setTimeout(connect, pause);
    retryDelay = Math.min(2 * retryDelay, longestRetryDelay);
  }

  function randomBetween(low, high) {
    return low + Math.random() * (high - low); // as Python's random.uniform(low, high)
  }

  // A connection can die without a close event: Wi-Fi gone, or a network that
  // silently drops everything. So every second the page checks: a socket that
  // has not opened in 10 s, or answered what it was sent in 5 s, is given up,
  // and a new one opened; with nothing heard for 15 s, the page sends a ping.
  function watchConnection() {
    saveUnsent(unsentCheeps()); // renews `seen`: this tab is still here
    const limit = socket.readyState === WebSocket.CONNECTING ? openTime : answerTime;
    if (waitingSince && Date.now() - waitingSince > limit) {
      // Leave this socket without waiting for its close event: on a dead connection it may never come.
      socket.onopen = null;
      socket.onmessage = null;
      socket.onclose = null;
      socket.close();
      reconnectSoon("No answer from the live feed.");
    } else if (socket.readyState === WebSocket.OPEN && !waitingSince && Date.now() - lastHeard > quietTime) {
      send({ type: "ping" });
    }
  }

  // The instructor's tools: the buttons on each cheep, the list of who is
  // muted, and starting afresh. Each sends a message on the socket; the server
  // refuses them from anyone but the instructor.
  function instructorTools(name) {
    // Each button's label says whose cheep it acts on: a screen reader lists
    // the buttons of a page, and twenty plain "Remove" buttons tell nothing apart.
    return $("<span class='tools'>").append(
      $("<button type='button' data-do='remove'>Remove</button>").attr("aria-label", `Remove ${name}'s cheep`),
      $("<button type='button' data-do='name'>Mute name</button>").attr("aria-label", `Mute name ${name}`),
      $("<button type='button' data-do='address'>Mute address</button>").attr("aria-label", `Mute address of ${name}`)
    );
  }

  function sendInstructorMessage(message) {
    if (socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(message));
    } else {
      $error.text("Not connected to the live feed just now: try again in a moment.");
    }
  }

  const muted = instructor ? JSON.parse($("#muted-now").text()) : null; // {name: {value: label}, address: {...}}

  function heardMute(message) {
    if (message.type === "muted") {
      muted[message.what][message.value] = message.label;
    } else {
      delete muted[message.what][message.value];
    }
    showMuted();
  }

  function showMuted() {
    const $list = $("#muted").empty();
    ["name", "address"].forEach((what) => {
      Object.entries(muted[what]).forEach(([value, label]) => {
        const says = what === "name" ? `The name ${label}` : `The address ${label}'s cheep came from`;
        const $unmute = $("<button type='button'>Unmute</button>").attr("aria-label", `Unmute: ${says}`);
        $unmute.on("click", () => sendInstructorMessage({ type: "unmute", what: what, value: value }));
        $list.append($("<li>").append($("<bdi>").text(says), " ", $unmute));
      });
    });
    if (!$list.children().length) {
      $list.append($("<li>").text("Nobody."));
    }
  }

  function setUpInstructorTools() {
    $feed.children().each((index, item) => { // the cheeps the server drew
      $(item).append(instructorTools($(item).children(".name").text()));
    });
    $feed.on("click", ".tools button", (event) => {
      const button = event.currentTarget;
      const id = idOf(button.closest("li"));
      const action = $(button).attr("data-do");
      sendInstructorMessage(action === "remove" ? { type: "remove", id: id } : { type: "mute", id: id, what: action });
    });
    $("#start-afresh").on("click", () => {
      $("#confirm-afresh").prop("hidden", false);
      $("#afresh-no").trigger("focus"); // the safe answer first
    });
    $("#afresh-no").on("click", () => $("#confirm-afresh").prop("hidden", true));
    $("#afresh-yes").on("click", () => {
      sendInstructorMessage({ type: "start-afresh" });
      $("#confirm-afresh").prop("hidden", true);
    });
    showMuted();
  }

  if (instructor) {
    setUpInstructorTools();
  }

  // Enter in a field and the Send button both submit the form.
  $("#cheep-form").on("submit", (event) => {
    event.preventDefault(); // no page reload: the cheep goes over the socket instead
    const name = $("#name").val().trim();
    const text = $("#cheep").val().trim();
    if (!name || !text) {
      $error.text("Write your name and a cheep first.");
      return;
    }
    // The key makes the cheep safe to send again: the server stores each key once.
    const cheep = { type: "cheep", name: name, cheep: text, key: newKey() };
    saveUnsent(unsentCheeps().concat([cheep]));
    $unsent.prepend(renderUnsent(cheep));
    if (socket.readyState === WebSocket.OPEN) {
      send(cheep);
    } // otherwise it goes when the socket opens
    $("#cheep").val("");
    $error.text("");
  });

  // Going away (a reload, a closed tab): this list may be taken over at once.
  // Back (from the browser's history): it is this tab's own again.
  $(window).on("pagehide", () => saveUnsent(unsentCheeps(), 0));
  $(window).on("pageshow", () => {
    saveUnsent(unsentCheeps());
    showUnsent();
  });
  // Another tab changed this tab's list: a duplicated tab shares it, for one.
  $(window).on("storage", (event) => {
    if (event.originalEvent.key === myList) {
      showUnsent();
    }
  });

  saveUnsent(unsentCheeps()); // this tab's list again, after a reload
  takeOverListsOfTabsGone();
  const stored = $feed.children("[data-key]").map((index, item) => $(item).attr("data-key")).get();
  saveUnsent(unsentCheeps().filter((cheep) => !stored.includes(cheep.key)));
  showUnsent();
  connect();
  setInterval(watchConnection, 1000);
});
