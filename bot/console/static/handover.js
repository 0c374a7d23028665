/* Køge Erhvervsbot, personale: the handover pages keep themselves up to date.

   The queue (/overtagelse) asks /overtagelse.json every 3 seconds and rebuilds its three
   lists when they changed; a conversation (/overtagelse/{id}) asks
   /overtagelse/{id}/beskeder.json?efter=<last event id> every 2 seconds and adds the new
   lines. Every text is set with textContent (never innerHTML). Without JavaScript the pages'
   "Opdater" links do the same. Nothing is asked while the tab is hidden. */
(function () {
  "use strict";

  var SIGNED_OUT = "Siden opdateres ikke længere (du er måske blevet logget ud). ";

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function hiddenText(text) {
    return el("span", "visually-hidden", text);
  }

  /* The JSON at url; rejects with "stop" when the answer is not JSON (signed out: the
     console answered with its sign-in page), with another error when the network failed. */
  function getJson(url) {
    /* X-Console-Poll marks a poll: not the user's own activity (the idle time-out may ignore it). */
    return fetch(url, {credentials: "same-origin", cache: "no-store",
                       headers: {"Accept": "application/json", "X-Console-Poll": "1"}})
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (!response.ok || type.indexOf("application/json") !== 0) { throw new Error("stop"); }
        return response.json();
      });
  }

  /* Run step() every `every` ms (one at a time) until it resolves to false or stops. */
  function poll(every, step, stopped) {
    function tick() {
      if (document.hidden) { window.setTimeout(tick, every); return; }
      step().then(function (more) {
        if (more !== false) { window.setTimeout(tick, every); }
      }, function (err) {
        if (err && err.message === "stop") { stopped(); } else { window.setTimeout(tick, every * 3); }
      });
    }
    window.setTimeout(tick, every);
  }

  function reloadLink(notice, text) {
    var link = el("a", null, "Opdater siden");
    link.href = window.location.pathname;
    notice.textContent = text;
    notice.appendChild(link);
  }

  /* --- the queue --------------------------------------------------------------------------- */

  function summary(pairs) {
    var list = el("ul", "plain summary");
    if (!pairs.length) { list.appendChild(el("li", "hint", "Intet resumé")); }
    pairs.forEach(function (pair) {
      var item = el("li");
      item.appendChild(el("span", "hint", pair[0] + ":"));
      item.appendChild(document.createTextNode(" " + pair[1]));
      list.appendChild(item);
    });
    return list;
  }

  function link(item, text, id) {
    var a = el("a", null, text);
    a.href = item.url;
    a.id = id;
    a.appendChild(hiddenText(" nr. " + item.id));
    return a;
  }

  function claimForm(item) {
    var form = el("form", "inline");
    form.method = "post";
    form.action = item.url + "/tag";
    var token = el("input");
    var mine = document.querySelector('input[name="csrf_token"]');
    token.type = "hidden";
    token.name = "csrf_token";
    token.value = mine ? mine.value : "";
    var button = el("button", "small", "Tag samtalen");
    button.type = "submit";
    button.id = "tag-" + item.id;
    button.appendChild(hiddenText(" nr. " + item.id));
    form.appendChild(token);
    form.appendChild(button);
    return form;
  }

  function row(item, cells) {
    var tr = el("tr");
    var head = el("th", null, item.id);
    head.scope = "row";
    tr.appendChild(head);
    cells.forEach(function (content) {
      var td = el("td");
      (Array.isArray(content) ? content : [content]).forEach(function (part) {
        if (typeof part === "string") { td.appendChild(document.createTextNode(part)); } else { td.appendChild(part); }
      });
      tr.appendChild(td);
    });
    return tr;
  }

  var BUILD = {
    waiting: function (h) {
      return row(h, [h.waited, h.channel, h.language, h.reason, summary(h.summary),
        [claimForm(h), " ", link(h, "Se samtalen", "se-" + h.id)]]);
    },
    claimed: function (h) {
      return row(h, [h.claimed_by + (h.mine ? " (dig)" : ""), h.claimed_at, h.channel, summary(h.summary),
        link(h, "Åbn samtalen", "se-" + h.id)]);
    },
    ended: function (h) {
      return row(h, [h.status_label, h.ended_at, h.channel, h.claimed_by || "–", summary(h.summary),
        link(h, "Se samtalen", "se-" + h.id)]);
    }
  };

  function waitingText(count) {
    if (count === 0) { return "Ingen samtaler venter."; }
    return count === 1 ? "1 samtale venter." : count + " samtaler venter.";
  }

  function startQueue(region) {
    var seen = {};
    var status = region.querySelector("[data-queue-status]");
    var title = document.title;

    function show(name, items) {
      var body = region.querySelector('[data-rows="' + name + '"]');
      var text = JSON.stringify(items);
      if (!body || seen[name] === text) { return; }
      seen[name] = text;
      var active = document.activeElement;
      var focused = active && body.contains(active) ? active.id : null;
      while (body.firstChild) { body.removeChild(body.firstChild); }
      items.forEach(function (item) { body.appendChild(BUILD[name](item)); });
      region.querySelector('[data-table="' + name + '"]').hidden = items.length === 0;
      region.querySelector('[data-empty="' + name + '"]').hidden = items.length !== 0;
      if (focused && document.getElementById(focused)) { document.getElementById(focused).focus(); }
    }

    poll(3000, function () {
      return getJson(region.getAttribute("data-source")).then(function (data) {
        ["waiting", "claimed", "ended"].forEach(function (name) { show(name, data[name]); });
        var text = waitingText(data.waiting.length);
        if (status.textContent !== text) { status.textContent = text; }
        document.title = (data.waiting.length ? "(" + data.waiting.length + ") " : "") + title;
        return true;
      });
    }, function () { reloadLink(status, SIGNED_OUT); });
  }

  /* --- one conversation -------------------------------------------------------------------- */

  function line(data) {
    var item;
    if (data.kind === "event") {
      item = el("li", "turn turn--action", data.text);
    } else {
      item = el("li", "turn turn--" + (data.kind === "user" ? "user" : "bot") + (data.kind === "staff" ? " turn--staff" : ""));
      var who = el("p", "who", data.who + " ");
      who.appendChild(el("span", "time", data.when));
      item.appendChild(who);
      item.appendChild(el("p", "text", data.text));
    }
    item.id = "l" + data.id;
    return item;
  }

  function startChat(region) {
    var list = region.querySelector("[data-lines]");
    var scroller = region.querySelector("[data-scroll]");
    var notice = region.querySelector("[data-status-notice]");
    var statusText = region.querySelector("[data-status-text]");
    var status = region.getAttribute("data-status");
    var last = parseInt(region.getAttribute("data-last"), 10) || 0;

    scroller.scrollTop = scroller.scrollHeight;
    if (window.location.hash === "#svar" && document.getElementById("svar")) { document.getElementById("svar").focus(); }
    if (status !== "waiting" && status !== "claimed") { return; }

    poll(2000, function () {
      return getJson(region.getAttribute("data-source") + "?efter=" + last).then(function (data) {
        var atBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 40;
        var empty = list.querySelector("[data-no-lines]");
        data.lines.forEach(function (each) {
          if (each.id > last && !document.getElementById("l" + each.id)) {
            if (empty) { empty.remove(); empty = null; }
            list.appendChild(line(each));
          }
        });
        last = Math.max(last, data.last);
        if (atBottom) { scroller.scrollTop = scroller.scrollHeight; }
        if (data.status !== status) {
          statusText.textContent = data.status_label;
          reloadLink(notice, "Samtalens status er ændret: " + data.status_label + ". ");
          return false;
        }
        return data.open;
      });
    }, function () { reloadLink(notice, SIGNED_OUT); });
  }

  var queueRegion = document.querySelector("[data-handover-queue]");
  if (queueRegion) { startQueue(queueRegion); }
  var chatRegion = document.querySelector("[data-handover-chat]");
  if (chatRegion) { startChat(chatRegion); }
}());
