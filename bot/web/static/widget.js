/*
 * Køge Erhvervsbot: the chat widget.
 *
 * Include socket.io.min.js and this file (both with `defer`) and widget.css on a page. The
 * widget asks the server that serves this file for its settings (/api/config: the Rasa URL,
 * the retention period, the privacy page) and talks to Rasa's socket.io channel.
 *
 * Language: ?lang=en, else data-lang on this script tag, else <html lang>; Danish by default.
 * Every text from the user or the bot is put into the page with textContent; the bot's small
 * markdown subset (**bold**, [links](https://…), bare http(s) links, line breaks) is built
 * node by node, never through innerHTML. The server draws the conversation id and gives a
 * session token with it (session_confirm); both and the shown conversation are kept in
 * sessionStorage: the conversation survives a reload (the token proves it is this browser's),
 * and the browser forgets it when the tab or window is closed; "Start forfra" begins a new one
 * at once. Ratings carry the token too (/api/feedback rates only the browser's own conversation).
 *
 * It connects over WebSocket only (no long-polling), so that a conversation stays with one Rasa
 * worker when there are several (docs/limits.md). Rating buttons are shown only under factual
 * answers (messages whose `kind` is "answer"), not under questions, notes or errors. A factual
 * answer comes as one message with its parts (`custom.answer`, bot/answers.py): its body and,
 * as a footer in the same bubble, the contacts and the source with its date. The permanent
 * "Tal med en medarbejder" button makes a quick reply with the same payload redundant: such
 * quick replies are not shown. While the user waits for a person or talks with one (the
 * handover's messages say so), that button ends the handover instead ("Stop med at vente på en
 * medarbejder", "Afslut samtalen med medarbejderen": POST /api/handover/end with the session
 * token); the assistant's message that it answers again brings the usual button back.
 */
(function () {
  "use strict";

  const STRINGS = {
    da: {
      region: "Chat med Køge Erhvervsbot",
      launcher: "Spørg Erhvervsbot",
      title: "Køge Erhvervsbot",
      subtitle: "Chatbot – automatisk assistent",
      close: "Luk chatten",
      restart: "Start forfra",
      restarted: "Ny samtale startet.",
      notice: "Du skriver med en chatbot – en automatisk assistent, ikke et menneske. Tjek altid kilden under svaret.",
      stored: (days) => `Samtalen gemmes i ${days} dage hos Køge Kommunes erhvervsservice, også navn, e-mail, telefonnummer og CVR-nummer, hvis du skriver dem. Skriv ikke CPR-nummer eller andre følsomme oplysninger.`,
      storedUnknown: "Samtalen gemmes hos Køge Kommunes erhvervsservice. Skriv ikke CPR-nummer eller andre følsomme oplysninger.",
      privacy: "Sådan behandler vi dine oplysninger",
      log: "Samtale",
      you: "Dig",
      bot: "Erhvervsbot",
      replies: "Svarmuligheder",
      typing: "Erhvervsbot skriver …",
      inputLabel: "Skriv din besked",
      placeholder: "Skriv dit spørgsmål her",
      send: "Send",
      human: "Tal med en medarbejder",
      endQueue: "Stop med at vente på en medarbejder",
      endPerson: "Afslut samtalen med medarbejderen",
      endFailed: "Samtalen med medarbejderen kunne ikke afsluttes lige nu. Prøv igen om lidt.",
      backToBot: "Du skriver med chatbotten igen – spørg bare løs.",
      offline: "Chatten kan ikke få forbindelse til serveren lige nu. Tjek din internetforbindelse, og prøv igen om lidt.",
      retry: "Prøv igen",
      online: "Forbindelsen er genoprettet.",
      rate: "Var svaret nyttigt?",
      up: "Ja, svaret var nyttigt",
      down: "Nej, svaret var ikke nyttigt",
      thanks: "Tak for din vurdering.",
      offerPerson: "Tak. Hjalp svaret ikke, kan du tale med en medarbejder i stedet.",
      person: "Medarbejder, Køge Kommune",
      rateFailed: "Vurderingen kunne ikke gemmes. Prøv igen senere.",
      newTab: "(åbner i en ny fane)",
      locale: "da-DK",
    },
    en: {
      region: "Chat with Køge Business Bot",
      launcher: "Ask the Business Bot",
      title: "Køge Business Bot",
      subtitle: "Chatbot – automated assistant",
      close: "Close the chat",
      restart: "Start over",
      restarted: "New conversation started.",
      notice: "You are chatting with a chatbot – an automated assistant, not a person. Always check the source below the answer.",
      stored: (days) => `The conversation is stored for ${days} days by Køge Municipality's business service, including any name, e-mail, phone number or CVR number you type. Do not write CPR numbers or other sensitive information.`,
      storedUnknown: "The conversation is stored by Køge Municipality's business service. Do not write CPR numbers or other sensitive information.",
      privacy: "How we handle your data (in Danish)",
      log: "Conversation",
      you: "You",
      bot: "Business Bot",
      replies: "Suggested replies",
      typing: "Business Bot is typing …",
      inputLabel: "Type your message",
      placeholder: "Type your question here",
      send: "Send",
      human: "Talk to a person",
      endQueue: "Stop waiting for a member of staff",
      endPerson: "End the conversation with the member of staff",
      endFailed: "The conversation with the member of staff could not be ended right now. Please try again in a moment.",
      backToBot: "You are writing with the chatbot again – just ask.",
      offline: "The chat cannot reach the server right now. Check your internet connection and try again in a moment.",
      retry: "Try again",
      online: "The connection is back.",
      rate: "Was this answer helpful?",
      up: "Yes, the answer was helpful",
      down: "No, the answer was not helpful",
      thanks: "Thank you for your rating.",
      offerPerson: "Thank you. If the answer did not help, you can talk to a member of staff instead.",
      person: "Member of staff, Køge Municipality",
      rateFailed: "The rating could not be saved. Please try again later.",
      newTab: "(opens in a new tab)",
      locale: "en-GB",
    },
  };
  const HUMAN_PAYLOAD = "/request_human";
  const STORE = "koege-erhvervsbot";
  const ANSWER = "answer";
  const MAX_ITEMS = 200;
  const TYPING_TIMEOUT = 30000;
  const PERSON = "person";
  /** Handover messages (bot/handover): after these a person, not the bot, answers (no "typing"),
   *  and the person button ends the handover: "waiting" in the queue, "person" talking with one. */
  const HANDOVER_BY = { utter_handover_waiting: "waiting", utter_handover_joined: "person" };
  const RESUMED_BY = ["utter_handover_handed_back", "utter_handover_closed_by_staff", "utter_handover_no_one",
    "utter_handover_left", "utter_handover_left_queue"];

  const script = document.currentScript;
  const serverBase = new URL(script ? script.src : "/", location.href);
  const lang = pickLanguage();
  const t = STRINGS[lang];
  const timeFormat = new Intl.DateTimeFormat(t.locale, { hour: "2-digit", minute: "2-digit" });

  let config = null;
  let socket = null;
  let state = loadState();
  let ui = null;
  let typingTimer = 0;

  function pickLanguage() {
    const wanted = [
      new URLSearchParams(location.search).get("lang"),
      script && script.dataset.lang,
      document.documentElement.lang,
    ];
    for (const value of wanted) {
      const code = (value || "").toLowerCase().slice(0, 2);
      if (code === "en" || code === "da") return code;
    }
    return "da";
  }

  // ---- storage -------------------------------------------------------------------------

  /** {session: id or null, token: its session token, answer: number of the current answer,
   *  handover: null, "waiting" or "person",
   *  items: [{from, text, buttons, kind, time, answer, rating, parts: {body, footer} of an answer}]} */
  function loadState() {
    try {
      localStorage.removeItem(STORE); // earlier versions kept the conversation there with no end
    } catch (err) {
      // storage blocked: nothing to remove
    }
    try {
      const saved = JSON.parse(sessionStorage.getItem(STORE) || "null");
      if (saved && Array.isArray(saved.items)) {
        if (saved.paused && !saved.handover) saved.handover = "waiting"; // kept by an earlier version
        delete saved.paused;
        return saved;
      }
    } catch (err) {
      // unreadable or blocked storage: start a new conversation
    }
    return newState();
  }

  /** A new conversation: the server draws its id when the widget connects. */
  function newState() {
    return { session: null, token: null, answer: 0, handover: null, items: [] };
  }

  function saveState() {
    state.items = state.items.slice(-MAX_ITEMS);
    try {
      sessionStorage.setItem(STORE, JSON.stringify(state));
    } catch (err) {
      // storage full or blocked: the conversation still works, it just won't survive a reload
    }
  }

  // ---- DOM helpers ---------------------------------------------------------------------

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === false || value === null || value === undefined) continue;
      if (name === "text") node.textContent = value;
      else if (name === "className") node.className = value;
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : value);
    }
    for (const child of children) if (child) node.append(child);
    return node;
  }

  function icon(name) {
    const paths = {
      chat: "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z",
      close: "M6 6l12 12M18 6L6 18",
      thumb: "M2 21h4V9H2v12zm20-11a2 2 0 0 0-2-2h-6.3l1-4.6v-.3c0-.4-.2-.8-.5-1.1L13.2 1 6.6 7.6C6.2 8 6 8.5 6 9v10a2 2 0 0 0 2 2h9c.8 0 1.5-.5 1.8-1.2l3-7c.1-.3.2-.5.2-.8v-2z",
    };
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("class", "kw-icon kw-icon--" + name);
    const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
    path.setAttribute("d", paths[name]);
    svg.append(path);
    return svg;
  }

  /** Only absolute http(s) URLs become links. */
  function safeUrl(text) {
    try {
      const url = new URL(text);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (err) {
      return null;
    }
  }

  function link(text, href) {
    return el("a", { href, target: "_blank", rel: "noopener noreferrer" },
      text, el("span", { className: "kw-sr", text: " " + t.newTab }));
  }

  const INLINE = /\*\*([^*]+)\*\*|\[([^\]]+)\]\(([^)\s]+)\)|(https?:\/\/[^\s<>"]+)/g;

  /** Appends `text` with the markdown subset as DOM nodes: bold, links, line breaks. */
  function appendRich(parent, text) {
    text.split("\n").forEach((line, index) => {
      if (index > 0) parent.append(el("br"));
      let last = 0;
      for (const match of line.matchAll(INLINE)) {
        parent.append(line.slice(last, match.index));
        last = match.index + match[0].length;
        if (match[1] !== undefined) {
          parent.append(el("strong", { text: match[1] }));
        } else if (match[2] !== undefined) {
          const href = safeUrl(match[3]);
          parent.append(href ? link(match[2], href) : match[0]);
        } else {
          // a bare URL: trailing punctuation belongs to the sentence, not to the address
          const url = match[4].replace(/[.,;:!?)\]]+$/, "");
          last -= match[4].length - url.length;
          const href = safeUrl(url);
          parent.append(href ? link(url, href) : url);
        }
      }
      parent.append(line.slice(last));
    });
  }

  function plain(text) {
    return text.replace(/\*\*([^*]+)\*\*/g, "$1").replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, "$1 $2");
  }

  // ---- building the widget -------------------------------------------------------------

  function build() {
    const launcher = el("button", {
      type: "button", className: "kw-launcher", "aria-expanded": "false", "aria-controls": "kw-panel",
      onclick: open,
    }, icon("chat"), el("span", { text: t.launcher }));
    const log = el("ol", { className: "kw-log", "aria-label": t.log });
    const notice = el("div", { className: "kw-notice" });
    const typing = el("div", { className: "kw-typing", hidden: true },
      el("span", { text: t.typing }), el("span", { className: "kw-dots", "aria-hidden": "true" },
        el("span"), el("span"), el("span")));
    const body = el("div", { className: "kw-body" }, notice, log, typing);
    const alert = el("div", { className: "kw-alert", role: "alert" });
    const live = el("div", { className: "kw-sr", "aria-live": "polite" });
    const input = el("input", {
      id: "kw-input", type: "text", className: "kw-input", autocomplete: "off", maxlength: "1000",
      placeholder: t.placeholder,
    });
    const form = el("form", { className: "kw-form", onsubmit: onSubmit },
      el("label", { for: "kw-input", className: "kw-sr", text: t.inputLabel }), input,
      el("button", { type: "submit", className: "kw-send", text: t.send }));
    const human = el("button", { type: "button", className: "kw-human", onclick: onHuman });
    const closeButton = el("button", {
      type: "button", className: "kw-close", "aria-label": t.close, title: t.close, onclick: close,
    }, icon("close"));
    const restartButton = el("button", {
      type: "button", className: "kw-restart", text: t.restart, onclick: restart,
    });
    const panel = el("div", {
      id: "kw-panel", className: "kw-panel", role: "dialog", "aria-modal": "true",
      "aria-labelledby": "kw-title", "aria-describedby": "kw-subtitle", hidden: true, onkeydown: onPanelKey,
    },
    el("div", { className: "kw-header" },
      el("div", { className: "kw-heading" },
        el("h2", { id: "kw-title", className: "kw-title", text: t.title }),
        el("p", { id: "kw-subtitle", className: "kw-subtitle", text: t.subtitle })),
      restartButton, closeButton),
    body, alert, live,
    el("div", { className: "kw-footer" }, human, form));
    const root = el("section", { className: "kw", lang, "aria-label": t.region }, launcher, panel);
    document.body.append(root);
    return { root, launcher, panel, body, notice, log, typing, alert, live, input, human };
  }

  function renderNotice() {
    const days = config && config.retention_days;
    const configured = config && (lang === "en" ? config.privacy_url_en : config.privacy_url);
    const privacyUrl = new URL(configured || (lang === "en" ? "/privacy" : "/privatliv"), serverBase).href;
    ui.notice.replaceChildren(
      el("p", { text: t.notice }),
      el("p", { text: days ? t.stored(days) : t.storedUnknown }),
      el("p", {}, el("a", { href: privacyUrl, text: t.privacy })));
  }

  function renderItem(item, index) {
    const isBot = item.from === "bot";
    const stamp = new Date(item.time);
    const time = isNaN(stamp) ? new Date() : stamp; // a damaged stored entry must not stop the widget
    const bubble = el("div", { className: "kw-bubble" });
    if (isBot && isAnswer(item.parts)) renderAnswer(bubble, item.parts);
    else if (isBot) appendRich(bubble, String(item.text));
    else bubble.textContent = item.text;
    const byPerson = isBot && item.kind === PERSON;
    const who = byPerson ? t.person : isBot ? t.bot : t.you;
    const li = el("li", { className: "kw-msg kw-msg--" + item.from + (byPerson ? " kw-msg--person" : "") },
      el("p", { className: "kw-meta" }, el("span", { className: "kw-who", text: who }),
        " ", el("time", { datetime: time.toISOString(), text: timeFormat.format(time) })),
      bubble);
    if (isBot && item.buttons && item.buttons.length) {
      li.append(el("div", { className: "kw-replies", role: "group", "aria-label": t.replies },
        ...item.buttons.map((b) => el("button", {
          type: "button", className: "kw-reply", text: b.title, onclick: () => send(b.payload, b.title),
        }))));
    }
    const next = state.items[index + 1];
    const endsAnswer = isBot && !(next && next.from === "bot" && next.answer === item.answer);
    if (endsAnswer && isRateable(item)) li.append(renderRating(item));
    return li;
  }

  /** A factual answer in its bubble: the body, then its footer (contacts, source and date). */
  function renderAnswer(bubble, parts) {
    appendRich(bubble, parts.body);
    const footer = el("div", { className: "kw-answer-footer" });
    for (const line of parts.footer.filter((l) => typeof l === "string")) {
      const p = el("p");
      appendRich(p, line);
      footer.append(p);
    }
    if (footer.childElementCount) bubble.append(footer);
  }

  function isAnswer(parts) {
    return Boolean(parts) && typeof parts === "object" && typeof parts.body === "string" && Array.isArray(parts.footer);
  }

  /** An answer's parts from its message (custom.answer), or null. */
  function answerParts(message) {
    const answer = message.custom && typeof message.custom === "object" ? message.custom.answer : null;
    if (!isAnswer(answer)) return null;
    return { body: answer.body, footer: answer.footer.filter((line) => typeof line === "string") };
  }

  /** Whether the bot's reply that `item` ends holds a factual answer (and so can be rated). */
  function isRateable(item) {
    return state.items.some((i) => i.from === "bot" && i.answer === item.answer && i.kind === ANSWER);
  }

  function renderRating(item) {
    const group = el("div", { className: "kw-rate", role: "group", "aria-label": t.rate });
    const status = el("span", { className: "kw-rate-status", text: item.rating ? t.thanks : "" });
    for (const [rating, label] of [["up", t.up], ["down", t.down]]) {
      group.append(el("button", {
        type: "button", className: "kw-rate-btn kw-rate-btn--" + rating, "aria-label": label, title: label,
        "aria-pressed": item.rating === rating ? "true" : "false",
        onclick: () => rate(item, rating, group, status),
      }, icon("thumb")));
    }
    group.append(status);
    return group;
  }

  function renderLog() {
    ui.log.replaceChildren(...state.items.map(renderItem));
    renderHuman();
    scrollToEnd();
  }

  /** The footer's person button: "Tal med en medarbejder", or during a handover its end. */
  function renderHuman() {
    const label = state.handover === "person" ? t.endPerson : state.handover === "waiting" ? t.endQueue : t.human;
    ui.human.textContent = label;
    ui.human.classList.toggle("kw-human--end", Boolean(state.handover));
  }

  function setHandover(value) {
    if (state.handover === value) return;
    state.handover = value;
    saveState();
    renderHuman();
  }

  function onHuman() {
    if (state.handover) endHandover();
    else send(HUMAN_PAYLOAD, t.human);
  }

  /** Ends the handover (the server tells the user through the chat that the bot answers again). */
  async function endHandover() {
    ui.human.disabled = true;
    let ended = null;
    try {
      const response = await fetch(new URL("/api/handover/end", serverBase), {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ sender_id: state.session, session_token: state.token }),
      });
      if (!response.ok) throw new Error("handover: HTTP " + response.status);
      ended = (await response.json()).ended === true;
    } catch (err) {
      addNotice(t.endFailed);
    }
    ui.human.disabled = false;
    if (ended === null) return;
    if (!ended && state.handover) addNotice(t.backToBot); // it had ended already: say so here
    setHandover(null);
    ui.input.focus();
  }

  /** One of the widget's own notes in the conversation (no rating), read out. */
  function addNotice(text) {
    state.answer += 1;
    addItem({ from: "bot", text, buttons: [], kind: "notice", time: new Date().toISOString(), answer: state.answer });
    announce(t.bot + ": " + text);
  }

  function scrollToEnd() {
    ui.body.scrollTop = ui.body.scrollHeight;
  }

  function announce(text) {
    const line = el("p", { text });
    ui.live.append(line);
    while (ui.live.childElementCount > 3) ui.live.firstElementChild.remove();
  }

  function addItem(item) {
    state.items.push(item);
    saveState();
    // a further part of the same answer moves the rating buttons below it
    const previous = ui.log.lastElementChild;
    if (item.from === "bot" && previous && previous.classList.contains("kw-msg--bot")) {
      const before = state.items[state.items.length - 2];
      if (before.answer === item.answer) {
        const rateGroup = previous.querySelector(".kw-rate");
        if (rateGroup) rateGroup.remove();
      }
    }
    ui.log.append(renderItem(item, state.items.length - 1));
    scrollToEnd();
  }

  // ---- opening and closing -------------------------------------------------------------

  function open() {
    ui.panel.hidden = false;
    ui.launcher.hidden = true;
    ui.launcher.setAttribute("aria-expanded", "true");
    scrollToEnd();
    ui.input.focus();
    connect();
  }

  function close() {
    ui.panel.hidden = true;
    ui.launcher.hidden = false;
    ui.launcher.setAttribute("aria-expanded", "false");
    ui.launcher.focus();
  }

  /** Escape closes; Tab stays inside the dialog (it is modal). */
  function onPanelKey(event) {
    if (event.key === "Escape") {
      event.preventDefault();
      close();
      return;
    }
    if (event.key !== "Tab") return;
    const focusable = Array.from(ui.panel.querySelectorAll("a[href], button:not([disabled]), input"))
      .filter((node) => node.getClientRects().length > 0);
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  }

  // ---- connection ----------------------------------------------------------------------

  async function loadConfig() {
    if (config) return config;
    const response = await fetch(new URL("/api/config", serverBase), { headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error("config: HTTP " + response.status);
    config = await response.json();
    renderNotice();
    return config;
  }

  /**
   * The connection's status: "idle" (not opened yet), "connecting" (until Rasa confirms the
   * session), "online" or "offline" (the notice with its retry button is shown). Messages sent
   * while connecting wait in `pending` and go out once the session is confirmed.
   */
  let status = "idle";
  const pending = [];

  async function connect() {
    if (status !== "idle") return;
    status = "connecting";
    try {
      await loadConfig();
    } catch (err) {
      goOffline();
      return;
    }
    socket = window.io(config.rasa_url, {
      path: config.socketio_path || "/socket.io",
      transports: ["websocket"], // one connection, one Rasa worker (docs/limits.md)
      reconnectionDelayMax: 10000,
    });
    socket.on("connect", () =>
      socket.emit("session_request", { session_id: state.session, session_token: state.token }));
    socket.on("session_confirm", (session, token) => {
      if (session !== state.session || token !== state.token) {
        state.session = session;
        state.token = token;
        saveState();
      }
      if (ui.alert.childElementCount) announce(t.online);
      ui.alert.replaceChildren();
      status = "online";
      for (const payload of pending.splice(0)) emitMessage(payload);
    });
    socket.on("session_error", () => {
      // an id the server will not give this browser (an old or edited one): start afresh
      state.session = null;
      state.token = null;
      socket.emit("session_request", { session_id: null });
    });
    socket.on("connect_error", goOffline);
    socket.on("disconnect", (reason) => {
      if (reason !== "io client disconnect") goOffline();
    });
    socket.on("bot_uttered", onBotMessage);
  }

  /** Shows the offline notice with its retry button (once, until retry or a connection). */
  function goOffline() {
    status = "offline";
    hideTyping();
    if (ui.alert.childElementCount) return;
    ui.alert.replaceChildren(
      el("p", { text: t.offline }),
      el("button", { type: "button", className: "kw-retry", text: t.retry, onclick: retry }));
  }

  function retry() {
    ui.alert.replaceChildren();
    ui.input.focus();
    if (!socket) {
      status = "idle";
      connect();
      return;
    }
    reconnect();
  }

  /** A fresh socket.io connection (and so a fresh session request). */
  function reconnect() {
    status = "connecting";
    socket.disconnect();
    socket.connect();
  }

  function restart() {
    state = newState();
    saveState();
    pending.length = 0;
    hideTyping();
    renderLog();
    announce(t.restarted);
    if (socket && status === "online") reconnect(); // leave the old conversation's room
    ui.input.focus();
  }

  // ---- messages ------------------------------------------------------------------------

  function onSubmit(event) {
    event.preventDefault();
    const text = ui.input.value.trim();
    if (text && send(text, text)) ui.input.value = "";
  }

  /** Sends `payload` to Rasa and shows `shown`; false (and the offline notice) when offline. */
  function send(payload, shown) {
    if (status === "idle") connect();
    if (status === "offline") {
      goOffline();
      return false;
    }
    state.answer += 1;
    addItem({ from: "user", text: shown, time: new Date().toISOString(), answer: state.answer });
    if (status === "online") emitMessage(payload);
    else pending.push(payload);
    if (!state.handover) showTyping(); // during a handover a person answers, not the bot
    return true;
  }

  function emitMessage(payload) {
    socket.emit("user_uttered", { message: payload, session_id: state.session });
  }

  function onBotMessage(message) {
    if (!message || typeof message !== "object") return;
    const text = typeof message.text === "string" ? message.text : "";
    const buttons = (message.quick_replies || message.buttons || [])
      .filter((b) => b && typeof b.title === "string" && typeof b.payload === "string")
      .filter((b) => b.payload !== HUMAN_PAYLOAD) // the permanent button below does the same
      .map((b) => ({ title: b.title, payload: b.payload }));
    if (!text && !buttons.length) return;
    const kind = typeof message.kind === "string" ? message.kind : null;
    const parts = answerParts(message);
    hideTyping();
    addItem({ from: "bot", text: text || (parts ? parts.body : ""), buttons, kind, time: new Date().toISOString(),
      answer: state.answer, parts });
    if (Object.prototype.hasOwnProperty.call(HANDOVER_BY, message.response)) setHandover(HANDOVER_BY[message.response]);
    else if (kind === PERSON) setHandover("person");
    if (RESUMED_BY.includes(message.response)) setHandover(null);
    // an answer's footer is read with its links' texts, not their addresses
    const said = parts ? [parts.body, ...parts.footer].join("\n").replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, "$1") : text;
    announce((kind === PERSON ? t.person : t.bot) + ": " + plain(said));
  }

  function showTyping() {
    ui.typing.hidden = false;
    scrollToEnd();
    clearTimeout(typingTimer);
    typingTimer = setTimeout(hideTyping, TYPING_TIMEOUT);
  }

  function hideTyping() {
    clearTimeout(typingTimer);
    ui.typing.hidden = true;
  }

  /** Thumbs up/down: the whole answer (all its parts) is sent to the web server. */
  async function rate(item, rating, group, status) {
    if (item.rating === rating) return;
    const botMessage = state.items
      .filter((i) => i.from === "bot" && i.answer === item.answer && i.kind !== "notice")
      .map((i) => i.text).join("\n\n");
    try {
      const response = await fetch(new URL("/api/feedback", serverBase), {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ sender_id: state.session, session_token: state.token, bot_message: botMessage, rating }),
      });
      if (!response.ok) throw new Error("feedback: HTTP " + response.status);
    } catch (err) {
      status.textContent = t.rateFailed;
      announce(t.rateFailed);
      return;
    }
    item.rating = rating;
    saveState();
    for (const button of group.querySelectorAll("button")) {
      button.setAttribute("aria-pressed", String(button.classList.contains("kw-rate-btn--" + rating)));
    }
    status.textContent = t.thanks;
    announce(t.thanks);
    if (rating === "down" && !state.handover) {
      state.answer += 1; // a reply of its own: the rating stays under the answer it rates
      addItem({ from: "bot", text: t.offerPerson, buttons: [{ title: t.human, payload: HUMAN_PAYLOAD }],
        kind: "notice", time: new Date().toISOString(), answer: state.answer });
    }
  }

  function init() {
    ui = build();
    renderNotice();
    renderLog();
    loadConfig().catch(() => {}); // the notice shows the retention period once it is known
  }

  // the renderer of the bot's markdown subset, for host pages and the tests
  window.KoegeErhvervsbot = Object.freeze({ appendRich });

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
