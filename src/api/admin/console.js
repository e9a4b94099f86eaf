// The admin console's only script: a task page's progress bar follows the task (the v2
// task API, with the session cookie) and the page reloads for its results when it ends.
(function () {
  var box = document.getElementById("task-progress");
  if (!box) return;
  var bar = box.querySelector("progress");
  var text = box.querySelector("[data-progress-text]");
  var url = box.getAttribute("data-status-url") + "?page_size=1";
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (task) {
        var p = task.progress || { total: 0, done: 0, succeeded: 0, failed: 0 };
        bar.max = Math.max(p.total, 1);
        bar.value = p.done;
        text.textContent = p.done + " of " + p.total + " done (" + p.succeeded + " succeeded, " + p.failed + " failed) · " + task.status;
        if (task.status === "pending" || task.status === "running") {
          setTimeout(poll, 500);
        } else {
          window.location.reload();
        }
      })
      .catch(function () { setTimeout(poll, 2000); });
  }
  if (box.getAttribute("data-finished") !== "true") poll();
})();
