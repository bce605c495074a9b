// The FAQ chatbot widget: the 「AIチャットで質問」 link opens a dialog instead of /chatbot.
// No framework; without JavaScript the link leads to the server-rendered /chatbot page.
(function () {
  "use strict";
  var open = document.getElementById("chatbot-open");
  if (!open || !window.fetch || !document.createElement("dialog").showModal) return;
  var en = document.documentElement.lang === "en";
  function t(ja, e) { return en ? e : ja; }
  function el(tag, attrs, text) {
    var n = document.createElement(tag);
    for (var k in attrs) n.setAttribute(k, attrs[k]);
    if (text) n.textContent = text;
    return n;
  }
  var dialog = el("dialog", { "class": "chatbot-dialog", "aria-labelledby": "chatbot-title" });
  var title = el("h2", { id: "chatbot-title" }, t("AIチャットで質問", "Ask the chatbot"));
  var close = el("button", { type: "button", "class": "secondary chatbot-close" }, t("閉じる", "Close"));
  var log = el("div", { "class": "chatbot-log", "aria-live": "polite", role: "log" });
  var form = el("form", { "class": "chatbot-form" });
  var label = el("label", { "for": "chatbot-input" }, t("質問（日本語・English）", "Your question (English or Japanese)"));
  var input = el("input", { id: "chatbot-input", type: "text", maxlength: "1000", autocomplete: "off" });
  var send = el("button", { type: "submit" }, t("質問する", "Ask"));
  form.append(label, input, send);
  dialog.append(title, close, log, form);
  // Joined to the page only when first opened: until then the page's own labels and
  // landmarks are all a screen reader (or a test's locator) finds.

  function post(url, body) {
    return fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) })
      .then(function (r) { return r.json(); });
  }
  function say(node) { log.appendChild(node); log.scrollTop = log.scrollHeight; }
  function feedback(logId, body, box) {
    body.log_id = logId;
    post("/api/chatbot/feedback", body).then(function (r) { box.textContent = r.message || r.detail; });
  }
  function show(a) {
    var box = el("div", { "class": "chatbot-msg bot" });
    box.appendChild(el("p", { "class": "hint" }, a.message || a.detail || ""));
    var greeting = a.source && a.source.kind === "greeting";
    if (greeting) {
      box.appendChild(el("p", { lang: a.source.lang }, a.answer));
    } else if (a.answered) {
      box.appendChild(el("p", { "class": "chatbot-q" }, a.question));
      a.answer.split("\n").forEach(function (line) { box.appendChild(el("p", { lang: "ja" }, line)); });
      var meta = el("p", { "class": "meta" }, t("担当課", "Department") + ": " + (a.source.department || "-") +
        " · " + t("更新日", "Updated") + ": " + (a.source.updated || "-") + " · " +
        (a.source.kind === "procedures" ? t("手続きカタログ", "Procedure catalog") :
         a.source.kind === "live" ? t("市のシステムの最新情報", "Live city data") : "FAQ " + a.faq_id) + " ");
      if (a.source.url) meta.appendChild(el("a", { href: a.source.url }, t("詳しい説明", "Details")));
      box.appendChild(meta);
      if (a.log_id) {
        var rate = el("p", { "class": "chatbot-rate" });
        var up = el("button", { type: "button", "class": "secondary" }, "👍 " + t("役に立った", "Helpful"));
        var down = el("button", { type: "button", "class": "secondary" }, "👎 " + t("役に立たない", "Not helpful"));
        up.onclick = function () { feedback(a.log_id, { rating: 1 }, rate); };
        down.onclick = function () { feedback(a.log_id, { rating: -1 }, rate); };
        rate.append(up, down);
        box.appendChild(rate);
      }
    } else if (a.can_send_to_staff) {
      var hand = el("p");
      var staff = el("button", { type: "button" }, t("職員に質問を送る", "Send to staff"));
      staff.onclick = function () { feedback(a.log_id, { to_staff: true }, hand); };
      hand.appendChild(staff);
      box.appendChild(hand);
    }
    if (a.suggestions && a.suggestions.length) {
      box.appendChild(el("p", {}, greeting ? t("質問の例", "Example questions") :
        a.answered ? t("ほかの近い質問", "Other close questions") : t("近い質問", "Close questions")));
      var list = el("ul", { "class": "chatbot-suggestions" });
      a.suggestions.forEach(function (s) {
        var li = el("li"), b = el("button", { type: "button", "class": "secondary" }, s.question);
        b.onclick = function () { ask(s.question); };
        li.appendChild(b); list.appendChild(li);
      });
      box.appendChild(list);
    }
    say(box);
  }
  function ask(question) {
    say(el("p", { "class": "chatbot-msg me" }, question));
    post("/api/chatbot/ask", { question: question, lang: en ? "en" : "ja", channel: "web" })
      .then(show, function () { say(el("p", { "class": "alert" }, t("通信できませんでした", "Could not reach the server"))); });
  }
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var q = input.value.trim();
    if (!q) { input.focus(); return; }
    input.value = "";
    ask(q);
  });
  open.addEventListener("click", function (ev) {
    ev.preventDefault();
    if (!dialog.isConnected) document.body.appendChild(dialog);
    dialog.showModal();
    input.focus();
  });
  close.addEventListener("click", function () { dialog.close(); });
  dialog.addEventListener("close", function () { open.focus(); });
})();
