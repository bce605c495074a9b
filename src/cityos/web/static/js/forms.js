// 郵便番号 → 住所: when a postcode is typed and the next address field is empty, fill in the
// prefecture, city and town from /api/forms/postcode (Japan Post data shipped with City OS).
document.querySelectorAll("input[data-postcode]").forEach(function (input) {
  input.addEventListener("change", function () {
    var form = input.form;
    var address = form && form.querySelector('input[autocomplete="street-address"]');
    if (!address || address.value.trim()) return;
    fetch("/api/forms/postcode/" + encodeURIComponent(input.value.trim()))
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (found) {
        if (found && !address.value.trim()) address.value = found.pref + found.city + found.town;
      });
  });
});
