// Cheeper's live feed: send cheeps over a WebSocket and show every cheep as it arrives.
$(function () {
  // The socket goes back to the host and port this page came from, so the page
  // works on any port, and over wss: when the page itself came over https:.
  const protocol = location.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(protocol + "//" + location.host + "/ws");

  function renderCheep(cheep) {
    // .text() shows a name or cheep as plain text: "<script>" stays words on the page.
    return $("<li class='cheep'>").attr("data-id", cheep.id).append(
      $("<span class='name'>").text(cheep.name),
      " ",
      $("<span class='text'>").text(cheep.cheep),
      $("<time>").attr("datetime", cheep.time).text(cheep.time.slice(0, 16).replace("T", " ") + " UTC")
    );
  }

  socket.onopen = function () {
    $("#status").text("Live: new cheeps appear as they are sent.");
  };

  // Who is typing on other pages: each name, with the timer that forgets it.
  const typists = new Map();
  const TYPING_SHOWN_FOR = 5000; // milliseconds after someone's last typing message

  function showTypists() {
    const names = Array.from(typists.keys());
    if (names.length === 0) {
      $("#typing").text("");
    } else if (names.length === 1) {
      $("#typing").text(names[0] + " is typing…");
    } else {
      const last = names.pop();
      $("#typing").text(names.join(", ") + " and " + last + " are typing…");
    }
  }

  function startedTyping(name) {
    clearTimeout(typists.get(name)); // a new message: start counting again
    typists.set(name, setTimeout(function () { stoppedTyping(name); }, TYPING_SHOWN_FOR));
    showTypists();
  }

  function stoppedTyping(name) {
    clearTimeout(typists.get(name));
    typists.delete(name);
    showTypists();
  }

  socket.onmessage = function (event) {
    const message = JSON.parse(event.data);
    if (message.type === "typing") {
      startedTyping(message.name);
    } else if (message.type === "cheep") {
      stoppedTyping(message.name); // their cheep is here: they are done typing it
      $("#feed").prepend(renderCheep(message));
    }
  };

  socket.onclose = function () {
    $("#status").text("The live feed is disconnected. Reload the page to reconnect.");
  };

  // Tell the others that we are typing, but at most once every two seconds:
  // a message at every key press would be a flood for the whole room.
  const TYPING_EVERY = 2000; // milliseconds
  let toldTypingAt = 0;
  $("#cheep").on("input", function () {
    const name = $("#name").val();
    if (!name || socket.readyState !== WebSocket.OPEN || Date.now() - toldTypingAt < TYPING_EVERY) {
      return;
    }
    toldTypingAt = Date.now();
    socket.send(JSON.stringify({ type: "typing", name: name }));
  });

  // Enter in a field and the Send button both submit the form.
  $("#cheep-form").on("submit", function (event) {
    event.preventDefault(); // no page reload: the cheep goes over the socket instead
    socket.send(JSON.stringify({ type: "cheep", name: $("#name").val(), cheep: $("#cheep").val() }));
    $("#cheep").val("");
    toldTypingAt = 0; // the next cheep's first key press tells the others at once
  });
});
