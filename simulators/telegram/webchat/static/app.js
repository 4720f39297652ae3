// Genflow local web chat: plays a Telegram user against the Bot API simulator.
// Reads the chat from /chat/api/... (messages arrive with their text already rendered to safe HTML by
// the server: `html` is the only thing ever assigned to innerHTML); acts through /_sim/users/{id}/...
"use strict";

(() => {
  const body = document.body;
  const USER_ID = Number(body.dataset.userId);
  const USER_NAME = body.dataset.userName;
  const LANG = body.dataset.lang;
  const $ = (id) => document.getElementById(id);
  const ui = {
    messages: $("messages"),
    empty: $("empty"),
    status: $("status"),
    replyKeyboard: $("reply-keyboard"),
    composer: $("composer"),
    text: $("text"),
    fileInput: $("file-input"),
    attachment: $("attachment"),
    attachmentName: $("attachment-name"),
    attachmentPreview: $("attachment-preview"),
    asFile: $("as-file"),
    menuButton: $("menu-button"),
    menu: $("menu"),
    toast: $("toast"),
  };
  const BOT_STATUS = ui.status.textContent;
  const ACTIONS = {
    typing: "typing…",
    upload_photo: "sending a photo…",
    record_video: "recording a video…",
    upload_video: "sending a video…",
    record_voice: "recording a voice message…",
    upload_voice: "sending a voice message…",
    upload_document: "sending a file…",
    choose_sticker: "choosing a sticker…",
  };

  const store = new Map(); // message_id -> message JSON (visible ones)
  const pressed = new Map(); // message_id -> timer of the spinner on a pressed inline button
  let cursor = 0;
  let pendingFile = null;
  let actionTimer = null;
  let toastTimer = null;
  let placeholder = "Message";
  let shownKeyboard = "null"; // the reply keyboard last drawn, as JSON: redraw only when it changes

  // ---- helpers -----------------------------------------------------------------------------------

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  async function api(method, path, payload) {
    const init = { method, headers: {} };
    if (payload instanceof FormData) {
      init.body = payload;
    } else if (payload !== undefined) {
      init.body = JSON.stringify(payload);
      init.headers["Content-Type"] = "application/json";
    }
    const response = await fetch(path, init);
    let data;
    try {
      data = await response.json();
    } catch {
      data = { ok: false, error: `HTTP ${response.status}` };
    }
    if (!response.ok || data.ok === false) throw new Error(data.error || `HTTP ${response.status}`);
    return data;
  }

  function toast(message, { alert = false, ms = 3500 } = {}) {
    ui.toast.textContent = message;
    ui.toast.classList.toggle("alert", alert);
    ui.toast.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => (ui.toast.hidden = true), alert ? 8000 : ms);
  }

  function httpUrl(raw) {
    try {
      const url = new URL(raw, location.href);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch {
      return null;
    }
  }

  function formatSize(bytes) {
    if (!bytes) return "";
    const units = ["B", "KB", "MB", "GB"];
    let value = bytes;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit += 1;
    }
    return `${value.toFixed(unit ? 1 : 0)} ${units[unit]}`;
  }

  function formatTime(seconds) {
    return new Date(seconds * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function nearBottom() {
    const m = ui.messages;
    return m.scrollHeight - m.scrollTop - m.clientHeight < 120;
  }

  function scrollToBottom() {
    ui.messages.scrollTop = ui.messages.scrollHeight;
  }

  // ---- drawing messages --------------------------------------------------------------------------

  function mediaElement(media, message) {
    const who = message.sender === "bot" ? "from the bot" : "you sent";
    const mime = media.mime_type || "";
    if (media.kind === "photo" || (media.kind === "animation" && mime.startsWith("image/"))) {
      const link = el("a", "media-link");
      link.href = media.url;
      link.target = "_blank";
      link.rel = "noopener";
      const img = el("img", "media photo");
      img.src = media.url;
      img.alt = `${media.kind === "photo" ? "Photo" : "Animation"} ${who}`;
      if (media.width && media.height) {
        img.width = media.width;
        img.height = media.height;
      }
      img.addEventListener("load", () => img.classList.add("loaded"));
      link.append(img);
      return link;
    }
    if (media.kind === "video" || media.kind === "animation") {
      const video = el("video", "media video");
      video.src = media.url;
      video.preload = "metadata";
      video.playsInline = true;
      if (media.kind === "animation") {
        video.autoplay = true;
        video.loop = true;
        video.muted = true;
      } else {
        video.controls = true;
      }
      video.setAttribute("aria-label", `${media.kind === "video" ? "Video" : "Animation"} ${who}`);
      return video;
    }
    if (media.kind === "audio" || media.kind === "voice") {
      const box = el("div", "media audio-box");
      const audio = el("audio", "media audio");
      audio.src = media.url;
      audio.controls = true;
      audio.preload = "metadata";
      const label = media.kind === "voice" ? "Voice message" : media.file_name || "Audio";
      audio.setAttribute("aria-label", `${label} ${who}`);
      box.append(el("div", "file-name", label), audio);
      return box;
    }
    const link = el("a", "media document");
    link.href = media.url;
    link.download = media.file_name || "file";
    link.append(
      el("span", "document-icon", "📄"),
      el("span", "file-name", media.file_name || "File"),
      el("span", "file-size", formatSize(media.file_size)),
    );
    link.setAttribute("aria-label", `Download ${media.file_name || "file"} (${formatSize(media.file_size)})`);
    return link;
  }

  function keyboardElement(message) {
    const rows = message.buttons || [];
    if (!rows.length) return null;
    const keyboard = el("div", "inline-keyboard");
    keyboard.setAttribute("role", "group");
    keyboard.setAttribute("aria-label", "Inline buttons");
    for (const row of rows) {
      const line = el("div", "keyboard-row");
      for (const button of row) {
        let node;
        if (button.action === "url") {
          node = el("a", "kbd-button", button.text);
          node.href = button.url;
          node.target = "_blank";
          node.rel = "noopener noreferrer";
          node.append(el("span", "kbd-mark", "↗"));
        } else {
          node = el("button", "kbd-button", button.text);
          node.type = "button";
          node.dataset.action = button.action;
          node.dataset.messageId = message.message_id;
          if (button.action === "callback") node.dataset.data = button.data;
          if (button.action === "copy") node.dataset.copy = button.copy;
          if (button.action === "none") {
            node.disabled = true;
            node.title = "Not simulated in the local chat";
          }
          if (pressed.has(message.message_id) && button.action === "callback") node.classList.add("busy");
        }
        if (button.style) node.classList.add(`style-${button.style}`);
        line.append(node);
      }
      keyboard.append(line);
    }
    return keyboard;
  }

  function invoiceElement(message) {
    const invoice = message.invoice;
    const card = el("div", "invoice");
    card.append(el("div", "invoice-title", invoice.title));
    if (invoice.description) card.append(el("div", "invoice-description", invoice.description));
    const price = invoice.currency === "XTR" ? `⭐ ${invoice.total_amount}` : `${invoice.total_amount} ${invoice.currency}`;
    card.append(el("div", "invoice-price", price));
    const hasPay = (message.buttons || []).some((row) => row.some((b) => b.action === "pay"));
    if (!hasPay) {
      const pay = el("button", "kbd-button pay-button", `Pay ${price}`);
      pay.type = "button";
      pay.dataset.action = "pay";
      pay.dataset.messageId = message.message_id;
      card.append(pay);
    }
    return card;
  }

  function metaElement(message) {
    const meta = el("div", "meta");
    if (message.edited) meta.append(el("span", "edited", "edited"));
    const time = el("time", "", formatTime(message.date));
    time.dateTime = new Date(message.date * 1000).toISOString();
    meta.append(time);
    return meta;
  }

  function textElement(message) {
    const text = el("div", "text");
    text.innerHTML = message.html; // rendered and escaped by the server (webchat/render.py)
    return text;
  }

  function replyQuote(message) {
    const quote = el("div", "reply-quote");
    quote.append(
      el("div", "reply-author", message.reply_to.sender === "bot" ? body.dataset.botName : USER_NAME),
      el("div", "reply-snippet", message.reply_to.snippet),
    );
    return quote;
  }

  function singleElement(message) {
    if (message.service) {
      const row = el("div", "row service");
      row.append(el("span", "service-text", message.service));
      return row;
    }
    const row = el("div", `row ${message.sender}`);
    const bubble = el("div", "bubble");
    if (message.reply_to) bubble.append(replyQuote(message));
    for (const media of message.media) bubble.append(mediaElement(media, message));
    if (message.html) bubble.append(textElement(message));
    if (message.invoice) bubble.append(invoiceElement(message));
    bubble.append(metaElement(message));
    const visual = message.media.some((m) => m.kind === "photo" || m.kind === "video" || m.kind === "animation");
    if (visual && !message.html && !message.invoice) bubble.classList.add("media-only");
    row.append(bubble);
    const keyboard = keyboardElement(message);
    if (keyboard) row.append(keyboard);
    return row;
  }

  function albumElement(members) {
    const first = members[0];
    const row = el("div", `row ${first.sender} album`);
    const bubble = el("div", "bubble");
    const grid = el("div", `album-grid count-${Math.min(members.length, 4)}`);
    for (const member of members) {
      const item = el("div", "album-item");
      item.dataset.messageId = member.message_id;
      for (const media of member.media) item.append(mediaElement(media, member));
      grid.append(item);
    }
    bubble.append(grid);
    for (const member of members) {
      if (member.html) bubble.append(textElement(member));
    }
    bubble.append(metaElement(members[members.length - 1]));
    row.append(bubble);
    return row;
  }

  function placeRow(key, order, row) {
    row.id = key;
    row.dataset.order = order;
    const existing = document.getElementById(key);
    if (existing) {
      existing.replaceWith(row);
      return;
    }
    const later = [...ui.messages.querySelectorAll(":scope > .row")].find((r) => Number(r.dataset.order) > order);
    ui.messages.insertBefore(row, later || null);
  }

  function drawGroup(groupId) {
    const members = [...store.values()]
      .filter((m) => m.media_group_id === groupId)
      .sort((a, b) => a.message_id - b.message_id);
    const key = `g-${groupId}`;
    if (!members.length) {
      document.getElementById(key)?.remove();
      return;
    }
    placeRow(key, members[0].message_id, albumElement(members));
  }

  function upsert(message) {
    const wasAtBottom = nearBottom();
    const previous = store.get(message.message_id);
    if (message.deleted) {
      store.delete(message.message_id);
      document.getElementById(`m-${message.message_id}`)?.remove();
    } else {
      store.set(message.message_id, message);
    }
    if (previous?.media_group_id && previous.media_group_id !== message.media_group_id) {
      drawGroup(previous.media_group_id);
    }
    if (!message.deleted) {
      if (message.media_group_id) drawGroup(message.media_group_id);
      else placeRow(`m-${message.message_id}`, message.message_id, singleElement(message));
    } else if (message.media_group_id) {
      drawGroup(message.media_group_id);
    }
    ui.empty.hidden = store.size > 0;
    if (wasAtBottom || (!previous && message.sender === "user")) {
      scrollToBottom();
      ui.messages.querySelectorAll("img:not(.loaded)").forEach((img) =>
        img.addEventListener("load", () => wasAtBottom && scrollToBottom(), { once: true }),
      );
    }
  }

  function clearChat() {
    store.clear();
    ui.messages.querySelectorAll(":scope > .row").forEach((row) => row.remove());
    ui.empty.hidden = false;
  }

  // ---- reply keyboard, chat actions, spinners -----------------------------------------------------

  function setReplyKeyboard(keyboard) {
    const json = JSON.stringify(keyboard ?? null);
    if (json === shownKeyboard) return; // a one-time keyboard stays hidden after use
    shownKeyboard = json;
    ui.replyKeyboard.replaceChildren();
    ui.replyKeyboard.hidden = !keyboard;
    placeholder = keyboard?.placeholder || "Message";
    ui.text.placeholder = pendingFile ? "Add a caption" : placeholder;
    if (!keyboard) return;
    for (const row of keyboard.rows) {
      const line = el("div", "keyboard-row");
      for (const label of row) {
        const button = el("button", "reply-button", label);
        button.type = "button";
        button.addEventListener("click", () => {
          if (keyboard.one_time) ui.replyKeyboard.hidden = true;
          sendText(label);
        });
        line.append(button);
      }
      ui.replyKeyboard.append(line);
    }
  }

  function showAction(action) {
    ui.status.textContent = `${body.dataset.botName} is ${ACTIONS[action] || `${action}…`}`;
    ui.status.classList.add("active");
    clearTimeout(actionTimer);
    actionTimer = setTimeout(clearAction, 5000); // Telegram shows an action for 5 s
  }

  function clearAction() {
    clearTimeout(actionTimer);
    ui.status.textContent = BOT_STATUS;
    ui.status.classList.remove("active");
  }

  function setBusy(messageId, busy) {
    clearTimeout(pressed.get(messageId));
    if (busy) pressed.set(messageId, setTimeout(() => setBusy(messageId, false), 15000));
    else pressed.delete(messageId);
    document
      .querySelectorAll(`.kbd-button[data-action="callback"][data-message-id="${messageId}"]`)
      .forEach((button) => button.classList.toggle("busy", busy));
  }

  // ---- events ------------------------------------------------------------------------------------

  function handleEvent(event) {
    switch (event.kind) {
      case "message":
      case "edit":
      case "delete":
        if (event.message) {
          if (event.kind === "message" && event.message.sender === "bot") clearAction();
          upsert(event.message);
        }
        break;
      case "chat_action":
        showAction(event.data.action);
        break;
      case "callback_answer": {
        setBusy(event.message_id, false);
        const { text, show_alert: alert, url } = event.data;
        if (text) toast(text, { alert: Boolean(alert) });
        const target = url && httpUrl(url);
        if (target) window.open(target, "_blank", "noopener");
        break;
      }
      case "pre_checkout_answer":
        if (event.data.ok) toast("Payment confirmed by the bot");
        else toast(`Payment declined: ${event.data.error_message || ""}`, { alert: true });
        break;
      case "reset": // the simulator forgot everyone: introduce ourselves again
        clearChat();
        ensureUser().catch(() => {});
        break;
      default:
        break;
    }
  }

  async function loadTranscript() {
    const data = await api("GET", `/chat/api/chats/${USER_ID}`);
    clearChat();
    shownKeyboard = "undefined"; // redraw whatever the chat has now
    for (const message of data.chat.messages) upsert(message);
    setReplyKeyboard(data.chat.reply_keyboard);
    cursor = data.chat.last_seq;
    scrollToBottom();
  }

  function setConnected(connected) {
    body.classList.toggle("offline", !connected);
    if (!connected) ui.status.textContent = "connecting to the simulator…";
    else if (ui.status.textContent.startsWith("connecting")) ui.status.textContent = BOT_STATUS;
  }

  async function pollForever() {
    let offline = false;
    for (;;) {
      try {
        const data = await api("GET", `/chat/api/chats/${USER_ID}/events?after=${cursor}&timeout=25`);
        if (offline) {
          offline = false;
          setConnected(true);
          await ensureUser();
          await loadTranscript();
          continue;
        }
        if (data.resync) {
          await ensureUser();
          await loadTranscript();
          continue;
        }
        for (const event of data.events) handleEvent(event);
        cursor = data.last_seq;
        if ("reply_keyboard" in data) setReplyKeyboard(data.reply_keyboard);
        if (!data.events.length) await sleep(250); // the simulator stopping answers at once
      } catch {
        offline = true;
        setConnected(false);
        await sleep(2000);
      }
    }
  }

  // ---- acting as the user ------------------------------------------------------------------------

  function profile() {
    return { first_name: USER_NAME, language_code: LANG };
  }

  function ensureUser() {
    return api("PUT", `/_sim/users/${USER_ID}`, profile());
  }

  async function sendText(text) {
    try {
      await api("POST", `/_sim/users/${USER_ID}/message`, { text, user: profile() });
    } catch (error) {
      toast(`Not sent: ${error.message}`, { alert: true });
    }
  }

  function guessKind(file) {
    if (ui.asFile.checked) return "document";
    const type = file.type || "";
    if (type === "image/gif") return "animation";
    if (type.startsWith("image/")) return "photo";
    if (type.startsWith("video/")) return "video";
    if (type.startsWith("audio/")) return "audio";
    return "document";
  }

  async function sendFile(file, caption) {
    const form = new FormData();
    form.append("kind", guessKind(file));
    if (caption) form.append("caption", caption);
    form.append("file", file, file.name);
    try {
      await api("POST", `/_sim/users/${USER_ID}/message`, form);
    } catch (error) {
      toast(`Not sent: ${error.message}`, { alert: true });
    }
  }

  function setAttachment(file) {
    pendingFile = file;
    if (ui.attachmentPreview.src.startsWith("blob:")) URL.revokeObjectURL(ui.attachmentPreview.src);
    ui.attachment.hidden = !file;
    ui.text.placeholder = file ? "Add a caption" : placeholder;
    if (!file) {
      ui.fileInput.value = "";
      ui.attachmentPreview.hidden = true;
      ui.attachmentPreview.removeAttribute("src");
      return;
    }
    ui.attachmentName.textContent = `${file.name} · ${formatSize(file.size)}`;
    ui.asFile.checked = !(file.type || "").startsWith("image/") || file.type === "image/gif";
    const isImage = (file.type || "").startsWith("image/");
    ui.attachmentPreview.hidden = !isImage;
    if (isImage) {
      ui.attachmentPreview.src = URL.createObjectURL(file);
      ui.attachmentPreview.alt = `Preview of ${file.name}`;
    }
    ui.text.focus();
  }

  async function submit() {
    const text = ui.text.value;
    const file = pendingFile;
    if (!file && !text.trim()) return;
    ui.text.value = "";
    autoGrow();
    if (file) {
      setAttachment(null);
      await sendFile(file, text.trim());
    } else {
      await sendText(text);
    }
  }

  async function press(button) {
    const messageId = Number(button.dataset.messageId);
    const action = button.dataset.action;
    try {
      if (action === "callback") {
        setBusy(messageId, true);
        await api("POST", `/_sim/users/${USER_ID}/callback`, { message_id: messageId, data: button.dataset.data });
      } else if (action === "pay") {
        await api("POST", `/_sim/users/${USER_ID}/pay`, { message_id: messageId });
        toast("Paying… waiting for the bot to confirm");
      } else if (action === "copy") {
        await navigator.clipboard.writeText(button.dataset.copy);
        toast("Copied to the clipboard");
      }
    } catch (error) {
      setBusy(messageId, false);
      toast(`Failed: ${error.message}`, { alert: true });
    }
  }

  async function toggleMenu() {
    if (!ui.menu.hidden) {
      closeMenu();
      return;
    }
    let commands = [];
    try {
      commands = (await api("GET", `/chat/api/commands?lang=${encodeURIComponent(LANG)}`)).commands;
    } catch {
      // the menu still offers /start
    }
    if (!commands.some((c) => c.command === "start")) commands.unshift({ command: "start", description: "Start" });
    ui.menu.replaceChildren();
    for (const { command, description } of commands) {
      const item = el("li");
      item.setAttribute("role", "none");
      const button = el("button", "menu-item");
      button.type = "button";
      button.setAttribute("role", "menuitem");
      button.dataset.command = `/${command}`;
      button.append(el("span", "menu-command", `/${command}`), el("span", "menu-description", description));
      item.append(button);
      ui.menu.append(item);
    }
    ui.menu.hidden = false;
    ui.menuButton.setAttribute("aria-expanded", "true");
    ui.menu.querySelector("button")?.focus();
  }

  function closeMenu() {
    ui.menu.hidden = true;
    ui.menuButton.setAttribute("aria-expanded", "false");
  }

  function autoGrow() {
    ui.text.style.height = "auto";
    ui.text.style.height = `${Math.min(ui.text.scrollHeight, 160)}px`;
  }

  // ---- wiring ------------------------------------------------------------------------------------

  ui.composer.addEventListener("submit", (event) => {
    event.preventDefault();
    submit();
  });
  ui.text.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submit();
    }
  });
  ui.text.addEventListener("input", autoGrow);
  ui.fileInput.addEventListener("change", () => setAttachment(ui.fileInput.files[0] || null));
  $("attachment-cancel").addEventListener("click", () => setAttachment(null));
  ui.menuButton.addEventListener("click", toggleMenu);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !ui.menu.hidden) {
      closeMenu();
      ui.menuButton.focus();
    }
  });
  document.addEventListener("click", (event) => {
    const target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    const command = target.closest("[data-command]");
    if (command) {
      event.preventDefault();
      closeMenu();
      sendText(command.dataset.command);
      return;
    }
    const button = target.closest(".kbd-button[data-action]");
    if (button && !button.disabled) {
      press(button);
      return;
    }
    const spoiler = target.closest(".tg-spoiler");
    if (spoiler) spoiler.classList.add("revealed");
    if (!ui.menu.hidden && !target.closest("#menu, #menu-button")) closeMenu();
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && event.target instanceof Element && event.target.matches(".tg-spoiler")) {
      event.target.classList.add("revealed");
    }
  });

  (async () => {
    for (;;) {
      try {
        await ensureUser();
        await loadTranscript();
        break;
      } catch {
        setConnected(false);
        await sleep(2000);
      }
    }
    setConnected(true);
    body.dataset.ready = "true";
    pollForever();
  })();
})();
