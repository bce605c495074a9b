/* Shows a progress bar while a file uploads; without JavaScript the form posts normally. */
(function () {
  "use strict";
  document.querySelectorAll("form[data-upload]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.XMLHttpRequest || !window.FormData) { return; }
      event.preventDefault();
      var box = form.querySelector(".upload-progress");
      var bar = box.querySelector("progress");
      var status = box.querySelector("[aria-live]");
      var button = form.querySelector("button[type=submit]");
      box.hidden = false;
      button.disabled = true;
      var request = new XMLHttpRequest();
      request.open("POST", form.action);
      request.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) {
          var percent = Math.round((e.loaded / e.total) * 100);
          bar.value = percent;
          status.textContent = percent + "%";
        }
      });
      request.upload.addEventListener("load", function () {
        bar.removeAttribute("value");
        status.textContent = document.documentElement.lang === "en" ? "Checking rows..." : "行を検査しています…";
      });
      request.addEventListener("load", function () {
        if (request.status === 413) {
          status.textContent = document.documentElement.lang === "en" ? "The file is too large." : "ファイルが大きすぎます。";
          button.disabled = false;
          return;
        }
        if (request.status < 400 && request.responseURL) {
          window.location.assign(request.responseURL);  // the validation report
          return;
        }
        // Show the page the server answered with: the form with what went wrong.
        document.open();
        document.write(request.responseText);
        document.close();
      });
      request.addEventListener("error", function () {
        status.textContent = document.documentElement.lang === "en" ? "The upload failed. Try again." : "送信に失敗しました。もう一度お試しください。";
        button.disabled = false;
      });
      request.send(new FormData(form));
    });
  });
})();
