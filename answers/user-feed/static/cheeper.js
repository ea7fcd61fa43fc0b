// Cheeper's live feed: send cheeps over a WebSocket and show every cheep as it arrives.
$(function () {
  // The socket goes back to the host and port this page came from, so the page
  // works on any port, and over wss: when the page itself came over https:.
  const protocol = location.protocol === "https:" ? "wss:" : "ws:";
  // On a person's page (/user/Ada) the feed names them: the server then sends
  // only their cheeps. encodeURIComponent keeps a name like "Ada & Grace" whole.
  const user = $("#feed").attr("data-user");
  const path = user === undefined ? "/ws" : "/ws?name=" + encodeURIComponent(user);
  const socket = new WebSocket(protocol + "//" + location.host + path);

  function renderCheep(cheep) {
    // .text() shows a name or cheep as plain text: "<script>" stays words on the page.
    return $("<li class='cheep'>").attr("data-id", cheep.id).append(
      $("<a class='name'>").attr("href", "/user/" + encodeURIComponent(cheep.name)).text(cheep.name),
      " ",
      $("<span class='text'>").text(cheep.cheep),
      $("<time>").attr("datetime", cheep.time).text(cheep.time.slice(0, 16).replace("T", " ") + " UTC")
    );
  }

  socket.onopen = function () {
    $("#status").text("Live: new cheeps appear as they are sent.");
  };

  socket.onmessage = function (event) {
    const cheep = JSON.parse(event.data);
    $("#feed").prepend(renderCheep(cheep));
  };

  socket.onclose = function () {
    $("#status").text("The live feed is disconnected. Reload the page to reconnect.");
  };

  // Enter in a field and the Send button both submit the form.
  $("#cheep-form").on("submit", function (event) {
    event.preventDefault(); // no page reload: the cheep goes over the socket instead
    socket.send(JSON.stringify({ type: "cheep", name: $("#name").val(), cheep: $("#cheep").val() }));
    $("#cheep").val("");
  });
});
