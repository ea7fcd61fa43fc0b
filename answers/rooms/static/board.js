// The instructor's board: one row for each learner who shared their check,
// kept up to date over the same socket as the feed. Those who look stuck come
// first: the earliest step, failing before passing, and the longest at it.
$(function () {
  const rows = new Map(); // learner -> their latest report
  const stepNames = ["step 0", "step 1", "step 2", "the solution"];
  let retryDelay = 1000;
  let heardMeanwhile = null; // what the socket brought while the board asked for every row

  JSON.parse($("#board-now").text()).forEach(function (row) { rows.set(row.learner, row); });
  draw();
  connect();
  setInterval(draw, 15000); // "2 minutes ago" moves on by itself

  function connect() {
    const protocol = location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(protocol + "//" + location.host + "/ws");
    socket.onopen = function () {
      retryDelay = 1000;
      $("#status").attr("class", "live").text("Live: new results appear as they are shared.");
      // What was shared while the board was away, or loading. What the socket
      // brings meanwhile is newer: it goes on top of the answer.
      heardMeanwhile = [];
      $.getJSON("/api/progress").done(function (latest) {
        rows.clear();
        latest.forEach(function (row) { rows.set(row.learner, row); });
        heardMeanwhile.forEach(heard);
        draw();
      }).always(function () { heardMeanwhile = null; });
    };
    socket.onmessage = function (event) {
      const message = JSON.parse(event.data);
      if (heardMeanwhile) {
        heardMeanwhile.push(message);
      }
      heard(message);
      draw();
    };
    socket.onclose = function () {
      $("#status").attr("class", "reconnecting").text("Disconnected. Reconnecting…");
      // Longer after each failure, and a random part of it, as the feed does.
      setTimeout(connect, retryDelay / 2 + Math.random() * retryDelay / 2);
      retryDelay = Math.min(retryDelay * 2, 10000);
    };
  }

  function heard(message) {
    if (message.type === "progress") {
      rows.set(message.learner, message);
    } else if (message.type === "cleared") { // the instructor started afresh: a new room
      rows.clear();
    } // cheeps and the rest are for the feed
  }

  function lookingStuck(a, b) {
    return a.step - b.step || (a.failing === null) - (b.failing === null) || a.time.localeCompare(b.time);
  }

  function draw() {
    const sorted = Array.from(rows.values()).sort(lookingStuck);
    // .text() throughout: a report is shown as words, whatever it holds.
    $("#board tbody").empty().append(sorted.map(function (row) {
      return $("<tr>").toggleClass("stuck", row.failing !== null).append(
        $("<td>").append($("<bdi>").text(row.name)),
        $("<td>").text(stepNames[row.step]),
        $("<td>").text(row.kept + " of " + row.promises),
        $("<td>").text(row.failing === null ? "Every one kept" : row.failing),
        $("<td>").append($("<time>").attr("datetime", row.time).text(ago(row.time)))
      );
    }));
    $("#nobody").prop("hidden", rows.size > 0);
  }

  function ago(time) {
    const minutes = Math.floor((Date.now() - Date.parse(time)) / 60000);
    return minutes < 1 ? "just now" : minutes === 1 ? "1 minute ago" : minutes + " minutes ago";
  }
});
